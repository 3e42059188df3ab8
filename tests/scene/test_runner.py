"""SteppingRecipeRunner end to end on the embedded chest CT (real slicer-core, no mocks)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from SegmentEditorAdaptiveBrushLib.core.algorithms import ALGORITHMS
from SegmentEditorAdaptiveBrushTesterLib import (
    ActionRecipe,
    GoldStandard,
    RecipeAction,
    RecipeError,
    SegmentationCheckpoint,
    SteppingRecipeRunner,
)
from SegmentEditorAdaptiveBrushTesterLib.scene.runner import RunnerError, StepError
from SegmentEditorAdaptiveBrushTesterLib.scene.sample_data import SampleDataError

# Points inside the right lung of the embedded chest CT (RAS, mm).
LUNG_POINTS = [(75.0, -20.0, -190.0), (70.0, -10.0, -150.0), (62.0, -12.0, -110.0)]


def small_recipe() -> ActionRecipe:
    return ActionRecipe(
        name="test lung",
        sample_data="default",
        segment_name="right lung",
        actions=[
            RecipeAction.set_algorithm("connected_threshold"),
            RecipeAction.paint(LUNG_POINTS[0], brush_radius_mm=25.0),
            RecipeAction.set_param("edge_sensitivity", 60.0),
            RecipeAction.paint(LUNG_POINTS[1], path=[LUNG_POINTS[2]]),
            RecipeAction.erase(LUNG_POINTS[2], brush_radius_mm=10.0),
        ],
    )


@pytest.fixture
def runner(clean_scene):
    runner = SteppingRecipeRunner(small_recipe())
    assert runner.setup() is True
    yield runner
    runner.cleanup()


def test_fresh_runner_state(runner):
    assert runner.is_set_up() and not runner.has_branch()
    assert runner.current_step == -1
    assert runner.total_steps() == 5
    assert runner.is_at_start() and not runner.is_at_end() and not runner.is_branching()
    assert runner.get_current_action() is None
    assert runner.get_next_action() is runner.recipe.actions[0]
    assert [c.step_index for c in runner.checkpoints] == [-1]
    assert not runner.current_segment_array().any()


def test_step_forward_paints_and_records_one_checkpoint_per_step(runner):
    sizes = []
    while runner.step_forward():
        sizes.append(int(runner.current_segment_array().sum()))
    assert runner.is_at_end() and runner.step_forward() is False
    assert [c.step_index for c in runner.checkpoints] == [-1, 0, 1, 2, 3, 4]
    assert sizes[0] == 0 and sizes[1] > 100 and sizes[3] > sizes[1] and sizes[4] < sizes[3]
    assert runner.logic.parameters["edge_sensitivity"] == 60.0


def test_rewind_is_bit_exact_at_every_step_and_restores_parameters(runner):
    arrays, params = [runner.current_segment_array()], [dict(runner.logic.parameters)]
    while runner.step_forward():
        arrays.append(runner.current_segment_array())
        params.append(dict(runner.logic.parameters))
    for step in range(runner.total_steps() - 1, -2, -1):
        assert runner.goto_step(step)
        assert np.array_equal(runner.current_segment_array(), arrays[step + 1]), step
        assert dict(runner.logic.parameters) == params[step + 1], step
        checkpoint = runner.checkpoints[step + 1]
        assert np.array_equal(checkpoint.labelmap_array.astype(bool), arrays[step + 1])


def test_forward_after_rewind_keeps_one_checkpoint_per_step(runner):
    runner.run_to_end()
    runner.goto_step(1)
    runner.goto_step(4)
    runner.step_backward()
    runner.step_forward()
    steps = [c.step_index for c in runner.checkpoints]
    assert steps == sorted(set(steps)) == [-1, 0, 1, 2, 3, 4]


def test_goto_range_is_checked(runner):
    with pytest.raises(ValueError, match="valid steps are -1..4"):
        runner.goto_step(5)
    assert runner.step_backward() is False


def test_callbacks_receive_step_and_checkpoint(runner):
    steps: list = []
    checkpoints: list = []
    runner.set_step_callback(lambda index, action: steps.append((index, action)))
    runner.set_checkpoint_callback(checkpoints.append)
    runner.step_forward()
    runner.step_forward()
    assert steps == [(0, runner.recipe.actions[0]), (1, runner.recipe.actions[1])]
    assert [c.step_index for c in checkpoints] == [0, 1]
    assert all(isinstance(c, SegmentationCheckpoint) for c in checkpoints)
    runner.set_step_callback(None)
    runner.step_forward()
    assert len(steps) == 2


def test_raising_callbacks_do_not_break_the_runner(runner):
    def boom(*_args):
        raise RuntimeError("callback bug")

    runner.set_step_callback(boom)
    runner.set_checkpoint_callback(boom)
    assert runner.run_to_end() == 5
    assert runner.is_at_end() and len(runner.checkpoints) == 6


def test_failing_step_names_the_step_and_keeps_previous_state(clean_scene, monkeypatch):
    """A drag whose second point fails leaves the scene and parameters at the previous step."""
    algorithm = ALGORITHMS["geodesic_distance"]
    calls = []

    def fail_on_second_point(inp):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("solver diverged")
        return algorithm.run(inp)

    monkeypatch.setitem(
        ALGORITHMS, "geodesic_distance", dataclasses.replace(algorithm, run=fail_on_second_point)
    )
    recipe = small_recipe()
    recipe.actions.insert(
        2, RecipeAction.paint(LUNG_POINTS[1], path=[LUNG_POINTS[2]], algorithm="geodesic_distance")
    )
    runner = SteppingRecipeRunner(recipe)
    runner.setup()
    try:
        runner.step_forward()
        runner.step_forward()
        before = runner.current_segment_array()
        params = dict(runner.logic.parameters)
        with pytest.raises(StepError, match="step 2 .*solver diverged"):
            runner.step_forward()
        assert len(calls) == 2, "the first point was painted before the second failed"
        assert runner.current_step == 1
        assert np.array_equal(runner.current_segment_array(), before)
        assert dict(runner.logic.parameters) == params
    finally:
        runner.cleanup()


def test_points_outside_the_volume_are_refused_before_any_step(clean_scene):
    recipe = small_recipe()
    recipe.actions.append(RecipeAction.paint(LUNG_POINTS[0], path=[(5000.0, 0.0, 0.0)]))
    runner = SteppingRecipeRunner(recipe)
    with pytest.raises(RecipeError, match=r"action 5: field 'path\[0\]'.*outside the volume"):
        runner.setup()
    assert not runner.is_set_up()


def test_setup_again_after_cleanup_or_a_failed_setup(clean_scene):
    """Regression: cleanup() removed the editor node the runner made but kept using it."""
    recipe = small_recipe()
    recipe.gold_standard = GoldStandard("missing/reference.seg.nrrd", None)
    runner = SteppingRecipeRunner(recipe)
    with pytest.raises(SampleDataError):
        runner.setup()
    recipe.gold_standard = None
    for _ in range(2):
        assert runner.setup() is True
        assert runner.run_to_end() == 5 and runner.current_segment_array().any()
        runner.cleanup()


def test_step_indices_must_be_integers_in_range(runner):
    runner.run_to_end()
    for bad in (1.5, True, "2"):
        with pytest.raises(TypeError, match="integer"):
            runner.goto_step(bad)
    with pytest.raises(ValueError, match="valid steps are 0..4"):
        runner.step_label(-1)
    with pytest.raises(ValueError, match="valid steps are 0..4"):
        runner.step_label(10)
    assert runner.goto_step(np.int64(2)) and runner.current_step == 2


def test_branch_save_and_replay_gives_identical_segmentation(clean_scene):
    runner = SteppingRecipeRunner(small_recipe())
    runner.setup()
    try:
        runner.run_to_end()
        runner.goto_step(2)
        runner.start_branch()
        assert runner.is_branching()
        runner.add_manual_action(RecipeAction.paint((85.0, 10.0, -170.0), brush_radius_mm=15.0))
        assert runner.current_step == 3 and runner.total_steps() == 4
        branched = runner.current_segment_array()
        saved = runner.save_branch("my branch")
        runner.stop_branch()
        assert runner.current_step == 2 and not runner.is_branching() and runner.has_branch()
    finally:
        runner.cleanup()
    assert saved.name == "my branch"
    assert saved.metadata["parent_recipe"] == "test lung" and saved.metadata["branch_step"] == 2
    assert len(saved.actions) == 4
    replay = SteppingRecipeRunner(ActionRecipe.from_json(saved.to_json()))
    replay.setup()
    try:
        assert replay.run_to_end() == 4
        assert np.array_equal(replay.current_segment_array(), branched)
    finally:
        replay.cleanup()


def test_manual_action_needs_a_branch(runner):
    with pytest.raises(RunnerError, match="start_branch"):
        runner.add_manual_action(RecipeAction.paint(LUNG_POINTS[0]))


def test_replay_is_deterministic(clean_scene):
    results = []
    for _ in range(2):
        runner = SteppingRecipeRunner(small_recipe())
        runner.setup()
        runner.run_to_end()
        results.append(runner.current_segment_array())
        runner.cleanup()
    assert results[0].any() and np.array_equal(results[0], results[1])


def test_stats_and_cleanup(clean_scene):
    runner = SteppingRecipeRunner(small_recipe())
    runner.setup()
    runner.run_to_end()
    stats = runner.get_checkpoint_stats()
    assert stats["count"] == 6
    assert 0 < stats["bytes_held"] < stats["full_copy_bytes"]
    assert stats["ratio"] == pytest.approx(stats["bytes_held"] / stats["full_copy_bytes"])
    runner.cleanup()
    assert runner.checkpoints == [] and runner.current_step == -1 and not runner.is_set_up()
    runner.cleanup()


def test_hand_strokes_are_recorded_as_branch_actions(runner):
    runner.goto_step(1)
    runner.logic.set_parameters({"brush_radius_mm": 12.0})
    runner.logic.user_stroke([LUNG_POINTS[1], LUNG_POINTS[2]], erase=False)
    assert runner.is_branching(), "a hand stroke starts a branch at the current step"
    assert runner.current_step == 2 and runner.total_steps() == 3
    recorded = runner.get_current_action()
    assert recorded.type == "paint" and recorded.params == {"brush_radius_mm": 12.0}
    assert recorded.ras == LUNG_POINTS[1] and list(recorded.path) == [LUNG_POINTS[2]]
    runner.logic.user_stroke([LUNG_POINTS[0]], erase=True)
    assert runner.current_step == 3 and runner.get_current_action().type == "erase"
    after_hand = runner.current_segment_array()
    runner.goto_step(2)
    runner.goto_step(3)
    assert np.array_equal(runner.current_segment_array(), after_hand)
    saved = runner.save_branch()
    assert [a.type for a in saved.actions] == ["set_algorithm", "paint", "paint", "erase"]
    runner.stop_branch()
    assert runner.current_step == 1 and not runner.is_branching()


def test_manual_action_before_the_branch_point_moves_it(runner):
    """Regression: rewinding inside a branch to before its start and painting used to keep
    the old branch point (negative slice of the manual actions, restore of a dropped
    checkpoint on stop_branch)."""
    runner.goto_step(3)
    runner.start_branch()
    runner.add_manual_action(RecipeAction.paint(LUNG_POINTS[0], brush_radius_mm=8.0))
    runner.goto_step(1)
    runner.add_manual_action(RecipeAction.erase(LUNG_POINTS[0], brush_radius_mm=8.0))
    assert runner.current_step == 2 and runner.total_steps() == 3
    saved = runner.save_branch()
    assert saved.metadata["branch_step"] == 1
    assert [a.type for a in saved.actions] == ["set_algorithm", "paint", "erase"]
    runner.stop_branch()
    assert runner.current_step == 1 and runner.total_steps() == 5
    expected = SteppingRecipeRunner(small_recipe())
    expected.setup()
    try:
        expected.goto_step(1)
        assert np.array_equal(runner.current_segment_array(), expected.current_segment_array())
    finally:
        expected.cleanup()


def test_stop_branch_when_the_branch_point_was_thinned(clean_scene):
    runner = SteppingRecipeRunner(small_recipe(), checkpoint_budget_bytes=1)
    runner.setup()
    try:
        runner.goto_step(3)
        reference = runner.current_segment_array()
        runner.start_branch()
        for point in LUNG_POINTS:
            runner.add_manual_action(RecipeAction.paint(point, brush_radius_mm=6.0))
        assert 3 not in [c.step_index for c in runner.checkpoints]
        runner.stop_branch()
        assert runner.current_step == 3
        assert np.array_equal(runner.current_segment_array(), reference)
    finally:
        runner.cleanup()


def test_setup_and_cleanup_with_a_reference_leave_the_scene_as_it_was(clean_scene):
    """Regression: loading the reference left its segmentation display node behind."""
    recipe = small_recipe()
    recipe.gold_standard = GoldStandard("default", "right lung")
    for _ in range(2):
        runner = SteppingRecipeRunner(recipe)
        runner.setup()
        assert runner.reference_array is not None and runner.reference_array.sum() == 34450
        runner.cleanup()


def test_axial_stroke_after_an_oblique_one_is_axial(clean_scene):
    """Regression: the persisted slice_normal of an oblique stroke tilted later axial ones."""
    recipe = ActionRecipe(
        name="planes",
        sample_data="default",
        segment_name="s",
        actions=[
            RecipeAction.paint(
                LUNG_POINTS[0],
                algorithm="threshold_brush",
                brush_radius_mm=25.0,
                brush_mode="2d",
                slice_orientation="oblique",
                slice_normal=(1.0, 0.0, 0.0),
            ),
            RecipeAction.paint(LUNG_POINTS[1], brush_mode="2d", slice_orientation="axial"),
        ],
    )
    runner = SteppingRecipeRunner(recipe)
    runner.setup()
    try:
        runner.step_forward()
        oblique = runner.current_segment_array()
        runner.step_forward()
        painted = np.nonzero(runner.current_segment_array() & ~oblique)
        assert painted[0].size > 20
        assert np.unique(painted[0]).size == 1, "an axial disk lies in one k slice"
        assert np.unique(painted[2]).size > 5
    finally:
        runner.cleanup()
