#!/usr/bin/env bash
# Install the package into .venv and run the default test suite (or the one named by the arguments).
# Usage: bash scripts/run_tests.sh [pytest arguments]     default: -m "not slow"
# The Omniglot archives are read from $CLUTTERED_OMNIGLOT_MANUAL_DIR (default ../shared/omniglot).
set -euo pipefail
repo_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$repo_dir/scripts/setup_env.sh"
export CLUTTERED_OMNIGLOT_MANUAL_DIR="${CLUTTERED_OMNIGLOT_MANUAL_DIR:-$repo_dir/../shared/omniglot}"
for archive in images_background.zip images_evaluation.zip; do
  if [ ! -f "$CLUTTERED_OMNIGLOT_MANUAL_DIR/$archive" ]; then
    echo "error: $archive not found in CLUTTERED_OMNIGLOT_MANUAL_DIR=$CLUTTERED_OMNIGLOT_MANUAL_DIR." >&2
    echo "Set CLUTTERED_OMNIGLOT_MANUAL_DIR to the folder with both Omniglot archives." >&2
    exit 2
  fi
done
cd "$repo_dir"
if [ "$#" -eq 0 ]; then
  set -- -m "not slow"
fi
exec "$VENV_PYTHON" -m pytest "$@"
