"""Every action type, with every algorithm, in 3D and 2D, replays to the identical result."""

from __future__ import annotations

import numpy as np
import pytest
from SegmentEditorAdaptiveBrushLib.core.algorithms import ALGORITHMS
from SegmentEditorAdaptiveBrushTesterLib import ActionRecipe, RecipeAction, SteppingRecipeRunner

LUNG = (75.0, -20.0, -190.0)
NEAR = (66.0, -5.0, -170.0)


def recipe_for(algorithm: str) -> ActionRecipe:
    return ActionRecipe(
        name=f"all actions, {algorithm}",
        sample_data="default",
        segment_name="lung",
        actions=[
            RecipeAction.set_algorithm(algorithm, brush_radius_mm=15.0),
            RecipeAction.set_param("edge_sensitivity", 50.0),
            RecipeAction.paint(LUNG),
            RecipeAction.paint(NEAR, brush_mode="2d", slice_orientation="axial"),
            RecipeAction.paint(
                LUNG,
                path=[NEAR],
                brush_mode="2d",
                slice_orientation="oblique",
                slice_normal=[0.3, 0.2, 1.0],
            ),
            RecipeAction.erase(
                NEAR, brush_radius_mm=6.0, brush_mode="2d", slice_orientation="coronal"
            ),
            RecipeAction.erase(LUNG, brush_radius_mm=5.0, brush_mode="3d"),
        ],
    )


def replay(recipe: ActionRecipe) -> list[np.ndarray]:
    runner = SteppingRecipeRunner(recipe)
    runner.setup()
    try:
        states = []
        while runner.step_forward():
            states.append(runner.current_segment_array())
        return states
    finally:
        runner.cleanup()


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_every_action_replays_identically(clean_scene, algorithm):
    recipe = recipe_for(algorithm)
    first = replay(recipe)
    second = replay(ActionRecipe.from_json(recipe.to_json()))
    assert len(first) == len(second) == 7
    for step, (a, b) in enumerate(zip(first, second, strict=True)):
        assert np.array_equal(a, b), f"step {step} differs between replays"
    painted_3d, painted_2d = first[2], first[3]
    assert painted_3d.sum() > 0, "the 3D paint selected nothing"
    added_2d = painted_2d & ~painted_3d
    assert added_2d.any() and np.unique(np.nonzero(added_2d)[0]).size == 1, (
        "an axial 2D paint adds voxels in one slice only"
    )
    assert first[5].sum() <= first[4].sum() and first[6].sum() <= first[5].sum()
