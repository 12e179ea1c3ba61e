#!/usr/bin/env bash
# Creates .venv in the repository root and installs edge3d into it (editable, C++ core built by
# scikit-build-core). Usage: scripts/setup.sh EXTRAS   e.g. "realsense" or "train,realsense,dev".
# Re-running is cheap: dependencies are reinstalled only when pyproject.toml, constraints.txt or
# the requested extras change; the native core is always rebuilt incrementally.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
extras=${1:-realsense}
py=${PYTHON:-python3}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# pyrealsense2 links libusb-1.0 (and libudev); without them `import pyrealsense2` fails.
if ! ldconfig -p | grep 'libusb-1.0.so.0' >/dev/null; then
  echo "[setup] installing libusb-1.0 for pyrealsense2"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq libusb-1.0-0 libudev1 >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv with $($py --version)"
  "$py" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
fi

# The stamp records what was installed, so a second command in the same clone skips the resolver.
want="$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)"
stamp=.venv/edge3d-installed
have_hash=""; have_extras=""
if [ -f "$stamp" ]; then read -r have_hash have_extras < "$stamp" || true; fi
covered=1
IFS=',' read -ra wanted <<< "$extras"
for e in "${wanted[@]}"; do
  case ",$have_extras," in *",$e,"*) ;; *) covered=0 ;; esac
done

exec 9>"$root/.venv/.build.lock"
flock 9   # concurrent builds of the native core in one tree would corrupt each other
if [ "$want" != "$have_hash" ] || [ "$covered" = 0 ]; then
  echo "[setup] installing edge3d[$extras] and its dependencies into .venv"
  .venv/bin/python -m pip install -q -c constraints.txt "scikit-build-core>=0.10" "nanobind>=2.4"
  .venv/bin/python -m pip install -q -c constraints.txt --no-build-isolation -e ".[$extras]"
  union="$extras"
  if [ "$want" = "$have_hash" ] && [ -n "$have_extras" ]; then union="$have_extras,$extras"; fi
  echo "$want $union" > "$stamp"
else
  echo "[setup] dependencies up to date; rebuilding the native core"
  .venv/bin/python -m pip install -q --no-deps --no-build-isolation -e .
fi
