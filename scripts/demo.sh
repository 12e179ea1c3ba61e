#!/usr/bin/env bash
# The main job: `edge3d demo` on the built-in synthetic recording with the default model (the
# geometric segmenter), on the CPU. Extra arguments go to `edge3d demo` (see `edge3d demo --help`).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/setup.sh" realsense
cd "$root"
exec .venv/bin/edge3d demo "$@"
