// HDBSCAN* (Campello, Moulavi, Sander 2013; McInnes, Healy 2017) for low-dimensional embeddings.
//
// The pipeline: core distances (k-th nearest neighbour) -> minimum spanning tree of the mutual
// reachability graph (Boruvka over a KD-tree) -> single-linkage hierarchy -> condensed tree
// (min_cluster_size) -> excess-of-mass cluster selection -> labels, membership probabilities and
// per-cluster persistence. Conventions follow the `hdbscan` package the SSEN reference code uses.
#pragma once

#include <cstdint>
#include <vector>


namespace edge3d::hdbscan {

struct Edge {
  int32_t a, b;  // original point indices
  double w;      // mutual reachability distance
};

// Minimum spanning tree of the mutual reachability graph of n points in d dimensions, n - 1
// edges. The core distance of a point is the distance to its k-th nearest neighbour, counting
// the point itself as the first.
std::vector<Edge> mutual_reachability_mst(const float* points, int64_t n, int d, int k);

struct Clustering {
  std::vector<int32_t> labels;          // per point, -1 = noise, clusters numbered 0..
  std::vector<double> probabilities;    // per point membership strength in [0, 1]
  std::vector<double> persistence;      // per cluster, stability normalised to [0, 1]
  std::vector<double> lambda_birth;     // per cluster: 1 / distance at which it appears
};

// Condensed tree + excess-of-mass selection + labelling from an MST over n points.
Clustering extract_clusters(int64_t n, std::vector<Edge> mst, int min_cluster_size,
                            bool allow_single_cluster);

}  // namespace edge3d::hdbscan
