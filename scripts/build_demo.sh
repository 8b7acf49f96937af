#!/usr/bin/env bash
# Install the package into .venv, build a small custom config with Apache Beam on two worker
# processes, and print a summary of what was written.
# Usage: bash scripts/build_demo.sh [DATA_DIR]     (default DATA_DIR: ./demo_data)
# The runner is Beam's FnApiRunner, the engine behind the DirectRunner: naming it skips the
# DirectRunner's first attempt with the Prism runner, which downloads a binary from GitHub.
# The archives are read from $CLUTTERED_OMNIGLOT_MANUAL_DIR (default ../shared/omniglot) when it
# contains them. Set it to an existing empty folder to download the official archives instead.
set -euo pipefail
repo_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$repo_dir/scripts/setup_env.sh"
data_dir="${1:-$repo_dir/demo_data}"
manual_dir="${CLUTTERED_OMNIGLOT_MANUAL_DIR:-$repo_dir/../shared/omniglot}"
config='{"name": "demo_clutter_16", "clutter": 16, "train_examples": 4000, "eval_examples": 2000}'
tfds_bin="$(dirname "$VENV_PYTHON")/tfds"

"$tfds_bin" build cluttered_omniglot --imports cluttered_omniglot \
  --config "$config" \
  --data_dir "$data_dir" \
  --manual_dir "$manual_dir" \
  --beam_pipeline_options="runner=FnApiRunner,direct_num_workers=2,direct_running_mode=multi_processing"
"$VENV_PYTHON" "$repo_dir/scripts/summarize_build.py" --data_dir "$data_dir" cluttered_omniglot/demo_clutter_16
