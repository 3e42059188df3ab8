"""Hand strokes while a runner owns the editor: what is recorded, what is refused, and that
the scene never drifts from the checkpoints (regressions from a code review)."""

from __future__ import annotations

import numpy as np
import pytest
from SegmentEditorAdaptiveBrushLib.core.algorithms import ALGORITHMS
from SegmentEditorAdaptiveBrushLib.scene.segments import add_segment, new_segmentation_node
from SegmentEditorAdaptiveBrushTesterLib import ActionRecipe, RecipeAction, SteppingRecipeRunner
from SegmentEditorAdaptiveBrushTesterLib.scene.sample_data import SampleDataError

from .test_runner import LUNG_POINTS, small_recipe


@pytest.fixture
def runner(clean_scene):
    runner = SteppingRecipeRunner(small_recipe())
    runner.setup()
    runner.goto_step(1)
    yield runner
    runner.cleanup()


def test_plain_stroke_in_the_runners_editor_is_recorded(runner):
    runner.logic.stroke([LUNG_POINTS[1]])
    assert runner.is_branching() and runner.current_step == 2
    painted = runner.current_segment_array()
    runner.goto_step(-1)
    assert not runner.current_segment_array().any()
    runner.goto_step(2)
    assert np.array_equal(runner.current_segment_array(), painted)


def test_a_stroke_in_another_segmentation_is_not_recorded(runner, clean_scene):
    other = new_segmentation_node(clean_scene.scene, runner.volume_node, "other")
    try:
        add_segment(other, runner.recipe.segment_name)  # same name, so the same segment id
        runner.editor_node.SetAndObserveSegmentationNode(other)
        runner.logic.user_stroke([LUNG_POINTS[1]])
        assert not runner.is_branching() and runner.current_step == 1
    finally:
        runner.editor_node.SetAndObserveSegmentationNode(runner.segmentation_node)
        for n in range(other.GetNumberOfDisplayNodes()):
            clean_scene.scene.RemoveNode(other.GetNthDisplayNode(n))
        clean_scene.scene.RemoveNode(other)
    at_one = runner.current_segment_array()
    runner.goto_step(0)
    runner.goto_step(1)
    assert np.array_equal(runner.current_segment_array(), at_one)


def test_an_oblique_hand_stroke_records_its_plane(runner):
    runner.logic.set_parameters(
        {"brush_mode": "2d", "slice_orientation": "oblique", "slice_normal": (0.2, 0.1, 1.0)}
    )
    runner.goto_step(1)  # restores the step's parameters: no plane any more
    runner.logic.set_parameters(
        {"brush_mode": "2d", "slice_orientation": "oblique", "slice_normal": (0.2, 0.1, 1.0)}
    )
    runner.logic.user_stroke([LUNG_POINTS[1]])
    action = runner.get_current_action()
    assert action.params["brush_mode"] == "2d"
    assert action.params["slice_orientation"] == "oblique"
    assert tuple(action.params["slice_normal"]) == (0.2, 0.1, 1.0)


def test_a_stroke_the_runner_cannot_record_is_taken_back(runner, monkeypatch):
    before = runner.current_segment_array()

    def refuse(*_args):
        raise RuntimeError("cannot record")

    monkeypatch.setattr(runner, "_append_branch_action", refuse)
    with pytest.raises(RuntimeError, match="cannot record"):
        runner.logic.user_stroke([LUNG_POINTS[1]])
    assert np.array_equal(runner.current_segment_array(), before)


def test_an_interrupt_in_a_step_leaves_scene_and_parameters_at_the_checkpoint(
    clean_scene, monkeypatch
):
    algorithm = ALGORITHMS["connected_threshold"]
    calls = []

    def interrupt_second_point(inp):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return algorithm.run(inp)

    recipe = ActionRecipe(
        name="interrupt",
        sample_data="default",
        segment_name="lung",
        actions=[
            RecipeAction.paint(
                LUNG_POINTS[0], algorithm="connected_threshold", brush_radius_mm=15.0
            ),
            RecipeAction.paint(LUNG_POINTS[1], path=[LUNG_POINTS[2]], brush_radius_mm=20.0),
        ],
    )
    runner = SteppingRecipeRunner(recipe)
    runner.setup()
    try:
        runner.step_forward()
        at_zero = runner.current_segment_array()
        monkeypatch.setitem(
            ALGORITHMS,
            "connected_threshold",
            algorithm.__class__(
                algorithm.name, algorithm.label, interrupt_second_point, algorithm.parameters
            ),
        )
        calls.clear()
        with pytest.raises(KeyboardInterrupt):
            runner.step_forward()
        assert runner.current_step == 0
        assert np.array_equal(runner.current_segment_array(), at_zero)
        assert runner.logic.parameters["brush_radius_mm"] == 15.0
    finally:
        runner.cleanup()


def test_labels_of_steps_not_run_yet_name_algorithm_and_radius(clean_scene):
    runner = SteppingRecipeRunner(small_recipe(), checkpoint_budget_bytes=1)
    runner.setup()
    try:
        assert runner.step_label(1).startswith("paint, connected_threshold, r=25 mm")
        runner.run_to_end()
        assert runner.step_label(1).startswith("paint, connected_threshold, r=25 mm")
        assert [runner.step_label(i) for i in range(5)] == runner.recipe.labels()
    finally:
        runner.cleanup()


def test_a_failed_setup_leaves_no_logic_behind(clean_scene):
    recipe = small_recipe()
    recipe.sample_data = "missing/volume.nrrd"
    runner = SteppingRecipeRunner(recipe)
    with pytest.raises(SampleDataError):
        runner.setup()
    assert not runner.is_set_up()
    with pytest.raises(Exception, match="setup"):
        _ = runner.logic
    assert runner.get_checkpoint_stats()["segments"] == 0
