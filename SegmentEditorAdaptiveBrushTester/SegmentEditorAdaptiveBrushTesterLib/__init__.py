"""Recipes and the stepping runner of the Adaptive Brush.

Public API (identical in desktop Slicer and headless on slicer-core)::

    from SegmentEditorAdaptiveBrushTesterLib import (
        SteppingRecipeRunner, SegmentationCheckpoint, ActionRecipe, RecipeAction)

The recipe model, checkpoints, metrics and reports are pure Python. The runner needs
``slicer``; it is imported on first use so that the pure modules stay importable alone.
"""

from typing import Any

from .core.checkpoints import SegmentationCheckpoint
from .core.recipe import ActionRecipe, GoldStandard, RecipeAction, RecipeError

_SCENE_NAMES = ("RunnerError", "StepError", "SteppingRecipeRunner")

__all__ = [
    "ActionRecipe",
    "GoldStandard",
    "RecipeAction",
    "RecipeError",
    "RunnerError",
    "SegmentationCheckpoint",
    "StepError",
    "SteppingRecipeRunner",
]


def __getattr__(name: str) -> Any:
    if name in _SCENE_NAMES:
        from .scene import runner

        return getattr(runner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
