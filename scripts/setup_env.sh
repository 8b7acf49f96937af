#!/usr/bin/env bash
# Create (or reuse) the virtual environment .venv and install this package with its test tools.
# Usage: source scripts/setup_env.sh   (sets VENV_PYTHON)
set -euo pipefail
repo_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv_dir="${CLUTTERED_OMNIGLOT_VENV:-$repo_dir/.venv}"
if [ ! -x "$venv_dir/bin/python" ]; then
  python3 -m venv "$venv_dir"
  "$venv_dir/bin/python" -m pip install --quiet --upgrade pip
fi
"$venv_dir/bin/python" -m pip install --quiet --disable-pip-version-check -e "$repo_dir[tensorflow-cpu,test]"
VENV_PYTHON="$venv_dir/bin/python"
export VENV_PYTHON
