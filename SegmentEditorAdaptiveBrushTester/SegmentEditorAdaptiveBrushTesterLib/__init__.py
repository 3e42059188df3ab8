"""Recipes and the stepping runner of the Adaptive Brush.

Public API (identical in desktop Slicer and headless on slicer-core)::

    from SegmentEditorAdaptiveBrushTesterLib import (
        SteppingRecipeRunner, SegmentationCheckpoint, ActionRecipe, RecipeAction)

The recipe model and checkpoints are pure Python; importing the runner needs ``slicer``.
"""

from .core.checkpoints import SegmentationCheckpoint
from .core.recipe import ActionRecipe, GoldStandard, RecipeAction, RecipeError
from .scene.runner import RunnerError, StepError, SteppingRecipeRunner

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
