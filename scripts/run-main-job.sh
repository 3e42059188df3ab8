#!/usr/bin/env bash
# Fresh-machine main job: sets up .venv, then replays a recipe headless on the embedded
# chest CT and writes the report, segmentation and pictures (default: ./adaptive-brush-output).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/setup-env.sh"
exec adaptive-brush-replay "$@"
