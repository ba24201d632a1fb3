#!/usr/bin/env bash
# Install zeronas (editable, with test extras) into the current Python environment with exactly the
# tested versions of every dependency (constraints.txt; regenerate it with `python scripts/lock.py`),
# choosing the torch build for this machine: the CUDA wheel where an NVIDIA GPU is present,
# otherwise the CPU wheel (about 200 MB instead of several GB of CUDA libraries).
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
CONSTRAINTS=constraints.txt
TORCH_VERSION=$(sed -n 's/^torch==//p' "$CONSTRAINTS")

if "$PY" -c "import torch" >/dev/null 2>&1; then
  installed=$("$PY" -c 'import torch; print(torch.__version__.split("+")[0])')
  echo "install.sh: keeping the installed torch $installed (constraints.txt pins $TORCH_VERSION)"
  if [ "$installed" != "$TORCH_VERSION" ]; then
    # the rest stays pinned; only torch is left as it is
    CONSTRAINTS=$(mktemp)
    trap 'rm -f "$CONSTRAINTS"' EXIT
    grep -v '^torch==' constraints.txt >"$CONSTRAINTS"
  fi
elif command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
  "$PY" -m pip install -c "$CONSTRAINTS" "torch==${TORCH_VERSION}"   # PyPI's Linux wheel is the CUDA build
else
  # A CPU wheel that pip can already see locally (find-links / a wheelhouse), else PyTorch's CPU index.
  "$PY" -m pip install --no-index --no-deps "torch==${TORCH_VERSION}+cpu" 2>/dev/null \
    || "$PY" -m pip install --no-deps "torch==${TORCH_VERSION}+cpu" --index-url https://download.pytorch.org/whl/cpu
fi
# torch's own dependencies and everything zeronas needs, at the tested versions (torch is already satisfied).
"$PY" -m pip install -c "$CONSTRAINTS" -e ".[test]"
