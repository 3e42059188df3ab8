#!/usr/bin/env bash
# Fresh-machine test command: sets up .venv, then runs ruff, mypy and the headless tests.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/setup-env.sh"
cd "$root"

echo "== ruff"
ruff check .
ruff format --check . || { echo "ruff format: run 'ruff format .'"; exit 1; }
echo "== mypy"
mypy SegmentEditorAdaptiveBrush/SegmentEditorAdaptiveBrushLib \
     SegmentEditorAdaptiveBrushTester/SegmentEditorAdaptiveBrushTesterLib
echo "== pytest"
python -m pytest "$@"
