"""Strokes painted while dragging: applied point by point, one undo state, cancel, and
recorded by the stepping runner as one step that replays identically."""

from __future__ import annotations

import numpy as np
import pytest
from SegmentEditorAdaptiveBrushLib.core.errors import BrushGeometryError
from SegmentEditorAdaptiveBrushLib.scene.segments import read_segment_full
from SegmentEditorAdaptiveBrushLib.scene.volume import ijk_to_ras, volume_array
from SegmentEditorAdaptiveBrushTesterLib import ActionRecipe, RecipeAction, SteppingRecipeRunner

from .helpers import make_edit_scene

POINTS = [(75.0, -20.0, -190.0), (72.0, -12.0, -185.0), (68.0, -5.0, -180.0)]


@pytest.fixture
def scene(clean_scene):
    edit = make_edit_scene(clean_scene)
    edit.logic.set_parameters({"algorithm": "connected_threshold", "brush_radius_mm": 12.0})
    yield edit
    edit.remove(clean_scene.scene)


def segment(edit) -> np.ndarray:
    shape = volume_array(edit.volume).shape
    return read_segment_full(edit.segmentation, edit.segment_id, shape, ijk_to_ras(edit.volume))


def test_points_are_applied_as_they_come_with_one_undo_state(scene):
    undo_calls = []
    stroke = scene.logic.begin_stroke(save_undo_state=lambda: undo_calls.append(1))
    sizes = []
    for point in POINTS:
        stroke.add_point(point)
        sizes.append(int(segment(scene).sum()))
    finished = stroke.finish()
    assert undo_calls == [1]
    assert 0 < sizes[0] < sizes[1] < sizes[2]
    assert finished is not None and finished.points == tuple(POINTS)
    region = tuple(slice(a, b) for a, b in zip(finished.box_start, finished.box_stop, strict=True))
    now = segment(scene)
    assert np.array_equal(finished.after[scene.segment_id], now[region])
    assert not finished.before[scene.segment_id].any()
    assert now.sum() == now[region].sum(), "nothing outside the stroke's box changed"


def test_the_same_points_at_once_give_the_same_segment(scene):
    stroke = scene.logic.begin_stroke()
    for point in POINTS:
        stroke.add_point(point)
    stroke.finish()
    live = segment(scene)
    scene.logic.begin_stroke(erase=True)  # an unfinished stroke changes nothing
    scene.logic.user_stroke(POINTS, erase=True)
    assert not segment(scene).any()
    scene.logic.stroke(POINTS)
    assert np.array_equal(segment(scene), live)


def test_cancel_restores_the_segment_exactly(scene):
    scene.logic.stroke([POINTS[0]])
    before = segment(scene)
    stroke = scene.logic.begin_stroke(erase=True)
    stroke.add_point(POINTS[1])
    stroke.add_point(POINTS[0])
    assert not np.array_equal(segment(scene), before)
    stroke.cancel()
    assert np.array_equal(segment(scene), before)
    with pytest.raises(RuntimeError, match="ended"):
        stroke.add_point(POINTS[2])


def test_a_failing_point_leaves_nothing_half_painted(scene):
    with pytest.raises(BrushGeometryError, match="outside the volume"):
        scene.logic.user_stroke([POINTS[0], POINTS[1], (900.0, 0.0, 0.0)])
    assert not segment(scene).any()


def test_runner_records_a_live_stroke_as_one_replayable_step(clean_scene):
    recipe = ActionRecipe(
        name="live",
        sample_data="default",
        segment_name="lung",
        actions=[
            RecipeAction.paint(POINTS[0], algorithm="connected_threshold", brush_radius_mm=10.0)
        ],
    )
    runner = SteppingRecipeRunner(recipe)
    runner.setup()
    try:
        runner.run_to_end()
        runner.logic.set_parameters({"brush_radius_mm": 14.0})
        undo_calls = []
        stroke = runner.logic.begin_stroke(save_undo_state=lambda: undo_calls.append(1))
        for point in POINTS[1:]:
            stroke.add_point(point)
        stroke.finish()
        assert undo_calls == [], "the runner's checkpoints are the undo"
        assert runner.is_branching() and runner.current_step == 1
        action = runner.get_current_action()
        assert action.params == {"brush_radius_mm": 14.0}
        assert (action.ras, tuple(action.path)) == (POINTS[1], (POINTS[2],))
        painted = runner.current_segment_array()
        runner.step_backward()
        runner.step_forward()
        assert np.array_equal(runner.current_segment_array(), painted)
        branch = runner.save_branch()
    finally:
        runner.cleanup()
    replay = SteppingRecipeRunner(branch)
    replay.setup()
    try:
        replay.run_to_end()
        assert np.array_equal(replay.current_segment_array(), painted)
    finally:
        replay.cleanup()


def test_a_drag_leaving_the_image_skips_the_points_outside(scene):
    stroke = scene.logic.begin_stroke()
    assert stroke.add_point(POINTS[0], skip_outside=True) is True
    assert stroke.add_point((900.0, 0.0, 0.0), skip_outside=True) is False
    assert stroke.add_point(POINTS[1], skip_outside=True) is True
    finished = stroke.finish()
    assert finished is not None and finished.points == (POINTS[0], POINTS[1])
    painted = segment(scene)
    scene.logic.user_stroke([POINTS[1]], erase=True)
    scene.logic.user_stroke([POINTS[0]], erase=True)
    scene.logic.stroke([POINTS[0], POINTS[1]])
    assert np.array_equal(segment(scene), painted)
