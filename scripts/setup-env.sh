#!/usr/bin/env bash
# Creates (or refreshes) the project's virtual environment in .venv and installs the
# project with its test tools. Sourced by the other scripts; safe to run again.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${ADAPTIVE_BRUSH_VENV:-$root/.venv}"
python="${PYTHON:-python3}"

if [ ! -x "$venv/bin/python" ]; then
    echo "Creating virtual environment in $venv"
    "$python" -m venv "$venv"
fi

stamp="$venv/.installed-$(cat "$root/pyproject.toml" "$root/constraints/ci.txt" | cksum | cut -d' ' -f1)"
if [ ! -f "$stamp" ]; then
    echo "Installing the project and its dependencies (slicer-core, SimpleITK, scikit-image...)"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    "$venv/bin/python" -m pip install --quiet -c "$root/constraints/ci.txt" -e "$root[test]"
    rm -f "$venv"/.installed-*
    touch "$stamp"
fi
export PATH="$venv/bin:$PATH"
