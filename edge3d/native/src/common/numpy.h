// Hand a std::vector to Python as a numpy array without copying: the vector moves into a capsule
// that numpy frees with the array.
#pragma once

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <initializer_list>
#include <utility>
#include <vector>

namespace edge3d {

template <typename T>
nanobind::ndarray<nanobind::numpy, T> to_numpy(std::vector<T>&& data,
                                               std::initializer_list<size_t> shape) {
  if (data.empty()) data.reserve(1);  // numpy wants a valid pointer even for empty arrays
  auto* owned = new std::vector<T>(std::move(data));
  nanobind::capsule owner(owned, [](void* p) noexcept { delete static_cast<std::vector<T>*>(p); });
  return nanobind::ndarray<nanobind::numpy, T>(owned->data(), shape.size(), shape.begin(), owner);
}

template <typename T>
nanobind::ndarray<nanobind::numpy, T> to_numpy(std::vector<T>&& data) {
  const size_t n = data.size();
  return to_numpy(std::move(data), {n});
}

}  // namespace edge3d
