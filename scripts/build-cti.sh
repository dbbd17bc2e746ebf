#!/usr/bin/env bash
# Builds the GenTL producer and leaves it at target/release/mvcam.cti.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p gentl
target_dir="${CARGO_TARGET_DIR:-target}"
cp "$target_dir/release/libmvcam_gentl.so" "$target_dir/release/mvcam.cti"
echo "$target_dir/release/mvcam.cti"
