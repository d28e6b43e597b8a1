#!/usr/bin/env bash
# Build a throw-away venv at the declared dependency floor (the lowest torch/torchvision that
# pyproject.toml allows) and run the test suite there, so the floor we declare is one we tested.
#
# Usage: scripts/test_floor.sh [pytest args...]      (default: the whole suite, slow tests too)
# Env:   FLOOR_VENV    where to build the venv      (default /tmp/yolox-floor-venv; never the repo)
#        FLOOR_TORCH   torch version                (default 2.3.1)
#        FLOOR_VISION  torchvision version          (default 0.18.1)
#        FLOOR_NUMPY   numpy requirement            (default "<2": the oldest numpy line; torch 2.1
#                      and 2.2 wheels are built against NumPy 1.x and cannot use NumPy 2)
#        FLOOR_REUSE=1 keep an existing FLOOR_VENV (the installs below still run, pinned)
#        YOLOX_SHARED  shared fixtures and datasets (default ../shared)
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${FLOOR_VENV:-/tmp/yolox-floor-venv}"
torch_version="${FLOOR_TORCH:-2.3.1}"
vision_version="${FLOOR_VISION:-0.18.1}"
numpy_spec="${FLOOR_NUMPY:-<2}"
shared="${YOLOX_SHARED:-$(cd .. && pwd)/shared}"

case "$venv" in
  "$PWD"/*) echo "error: FLOOR_VENV=$venv lies inside the repository; use a path outside it" >&2; exit 2 ;;
esac

if [ "${FLOOR_REUSE:-0}" != 1 ] || [ ! -x "$venv/bin/python" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
fi
# shellcheck disable=SC1091
source "$venv/bin/activate"

# Pin the floor for every install below, so no later requirement can lift torch above it.
constraints="$venv/floor-constraints.txt"
printf 'torch==%s\ntorchvision==%s\nnumpy%s\n' "$torch_version" "$vision_version" "$numpy_spec" \
  >"$constraints"
export PIP_CONSTRAINT="$constraints"

pip install --quiet "torch==$torch_version" "torchvision==$vision_version" "numpy$numpy_spec"
pip install --quiet -e ".[dev]"

echo "floor: python $(python -c 'import platform; print(platform.python_version())')," \
  "torch $(python -c 'import torch; print(torch.__version__)')," \
  "torchvision $(python -c 'import torchvision; print(torchvision.__version__)')," \
  "numpy $(python -c 'import numpy; print(numpy.__version__)')"
YOLOX_SHARED="$shared" python -m pytest -q "$@"
