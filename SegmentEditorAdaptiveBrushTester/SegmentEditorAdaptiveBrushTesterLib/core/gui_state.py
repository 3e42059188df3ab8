"""Decisions behind the Tester panel, without Qt: which buttons are enabled in which runner
state, the step slider's range, and the texts of the step and checkpoint labels.

Pure Python (imports neither slicer, vtk nor qt), tested headless. The Qt widget only
copies these values onto its widgets.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

BUTTONS = (
    "loadRecipe",
    "loadShipped",
    "setup",
    "gotoStart",
    "stepBackward",
    "stepForward",
    "runToEnd",
    "gotoStep",
    "startBranch",
    "stopBranch",
    "saveBranch",
    "exportScript",
    "cleanup",
)

RECIPE_SUFFIX = ".json"


@dataclass(frozen=True)
class RunnerState:
    """What the panel needs to know about the recipe and the runner.

    Attributes
    ----------
    recipe_loaded : bool
        A recipe is loaded (set-up is possible).
    set_up : bool
        ``setup()`` succeeded and ``cleanup()`` has not been called since.
    current_step : int
        The runner's step; -1 = initial state.
    total_steps : int
        Steps of the active timeline (the recipe, or the branch while branching).
    branching : bool
        A branch is being recorded.
    branch_available : bool
        A branch was started since set-up, so ``save_branch()`` has something to save.
    busy : bool
        A runner call is in progress; nothing else may start.
    """

    recipe_loaded: bool = False
    set_up: bool = False
    current_step: int = -1
    total_steps: int = 0
    branching: bool = False
    branch_available: bool = False
    busy: bool = False


def enabled_buttons(state: RunnerState) -> dict[str, bool]:
    """Enabled state of every button in ``BUTTONS`` for ``state``."""
    idle = not state.busy
    ready = idle and state.set_up
    not_at_start = state.current_step > -1
    not_at_end = state.current_step < state.total_steps - 1
    return {
        "loadRecipe": idle,
        "loadShipped": idle,
        "setup": idle and state.recipe_loaded and not state.set_up,
        "gotoStart": ready and not_at_start,
        "stepBackward": ready and not_at_start,
        "stepForward": ready and not_at_end,
        "runToEnd": ready and not_at_end,
        "gotoStep": ready and state.total_steps > 0,
        "startBranch": ready and not state.branching,
        "stopBranch": ready and state.branching,
        "saveBranch": ready and state.branch_available,
        "exportScript": idle and state.recipe_loaded,
        "cleanup": idle and state.set_up,
    }


def goto_range(state: RunnerState) -> tuple[int, int]:
    """(minimum, maximum) of the step slider and spin box: -1 (initial state) to last step."""
    return (-1, max(state.total_steps - 1, -1))


def step_text(state: RunnerState, label: str | None = None) -> str:
    """The current-step label, e.g. ``"Step 3 of 12: paint, watershed, r=10 mm at ..."``."""
    if not state.recipe_loaded:
        return "No recipe loaded."
    if not state.set_up:
        return f"Recipe of {state.total_steps} steps loaded; press Set up."
    prefix = "Branch: " if state.branching else ""
    if state.current_step < 0:
        return f"{prefix}Initial state (0 of {state.total_steps} steps run)."
    text = f"{prefix}Step {state.current_step + 1} of {state.total_steps}"
    return f"{text}: {label}" if label else text + "."


def format_bytes(count: float) -> str:
    """Bytes as a short human-readable size (B, KB, MB, GB; powers of 1024)."""
    size = float(count)
    for unit in ("B", "KB", "MB"):
        if abs(size) < 1024.0:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024.0
    return f"{size:.1f} GB"


def stats_text(stats: Mapping[str, Any]) -> str:
    """One line from ``SteppingRecipeRunner.get_checkpoint_stats()``."""
    count = int(stats.get("count", 0))
    if count == 0:
        return "No checkpoints."
    held = format_bytes(stats.get("bytes_held", 0))
    full = format_bytes(stats.get("full_copy_bytes", 0))
    ratio = 100.0 * float(stats.get("ratio", 0.0))
    noun = "checkpoint" if count == 1 else "checkpoints"
    return f"{count} {noun}: {held} held, {full} as full copies ({ratio:.3g} %)."


def recipe_name_for_file(path: str) -> str:
    """Recipe name from a file name: its stem (``lung_branch.json`` -> ``lung_branch``)."""
    name = os.path.basename(path)
    return name[: -len(RECIPE_SUFFIX)] if name.lower().endswith(RECIPE_SUFFIX) else name


def safe_file_stem(name: str) -> str:
    """A file-name stem from a recipe name: letters, digits, ``-`` and ``_`` only."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_")
    return stem or "recipe"


def shipped_recipes(folder: str) -> list[tuple[str, str]]:
    """(label, path) of the recipes shipped in ``folder``, sorted by label."""
    if not os.path.isdir(folder):
        return []
    names = sorted(n for n in os.listdir(folder) if n.lower().endswith(RECIPE_SUFFIX))
    return [(recipe_name_for_file(n).replace("_", " "), os.path.join(folder, n)) for n in names]


def export_source(state: RunnerState) -> str:
    """What "Export Python script" exports: ``"branch"`` once a branch exists (the work the
    user did by hand), else ``"recipe"`` (the loaded one)."""
    return "branch" if state.set_up and state.branch_available else "recipe"


def default_branch_file_name(recipe_name: str) -> str:
    """Suggested file name of a saved branch, e.g. ``right_lung_branch.json``."""
    return f"{safe_file_stem(recipe_name)}_branch{RECIPE_SUFFIX}"


def default_script_file_name(recipe_name: str) -> str:
    """Suggested file name of an exported script, e.g. ``right_lung.py``."""
    return f"{safe_file_stem(recipe_name)}.py"
