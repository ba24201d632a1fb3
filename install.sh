#!/usr/bin/env bash
# Install zeronas (editable, with test extras) into the current Python environment with exactly the
# tested versions of every dependency (constraints.txt; regenerate it with `python scripts/lock.py`),
# choosing the torch build for this machine: the CUDA wheel where an NVIDIA GPU is present,
# otherwise the CPU wheel (about 200 MB instead of several GB of CUDA libraries).
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
CONSTRAINTS=constraints.txt
LOCKED_TORCH=$(sed -n 's/^torch==//p' constraints.txt)
TORCH_VERSION=${ZERONAS_TORCH_VERSION:-$LOCKED_TORCH}
if "$PY" -c "import torch" >/dev/null 2>&1; then
  TORCH_VERSION=$("$PY" -c 'import torch; print(torch.__version__.split("+")[0])')
  KEEP_TORCH=1
fi
if [ "$TORCH_VERSION" != "$LOCKED_TORCH" ]; then
  # another torch than the tested one, asked for or already there: everything else stays pinned
  echo "install.sh: torch $TORCH_VERSION instead of the tested $LOCKED_TORCH (constraints.txt)"
  CONSTRAINTS=$(mktemp)
  trap 'rm -f "$CONSTRAINTS"' EXIT
  grep -v '^torch==' constraints.txt >"$CONSTRAINTS"
fi

if [ -n "${KEEP_TORCH:-}" ]; then
  echo "install.sh: keeping the installed torch $TORCH_VERSION"
elif command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
  "$PY" -m pip install -c "$CONSTRAINTS" "torch==${TORCH_VERSION}"   # PyPI's Linux wheel is the CUDA build
else
  # A CPU wheel that pip can already see locally (find-links / a wheelhouse), else PyTorch's CPU index.
  "$PY" -m pip install --no-index --no-deps "torch==${TORCH_VERSION}+cpu" 2>/dev/null \
    || "$PY" -m pip install --no-deps "torch==${TORCH_VERSION}+cpu" --index-url https://download.pytorch.org/whl/cpu
fi
# torch's own dependencies and everything zeronas needs, at the tested versions (torch is already satisfied).
"$PY" -m pip install -c "$CONSTRAINTS" -e ".[test]"
