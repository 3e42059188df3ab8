"""AdaptiveBrushLogic on real MRML: cached parameters and strokes written in place."""

from __future__ import annotations

import numpy as np
import pytest
from SegmentEditorAdaptiveBrushLib.scene.effect_logic import ATTRIBUTE_PREFIX
from SegmentEditorAdaptiveBrushLib.scene.segments import read_segment_full
from SegmentEditorAdaptiveBrushLib.scene.volume import ijk_to_ras, volume_array

from .helpers import make_edit_scene

# Right lung of the embedded chest CT (RAS, mm).
POINTS = [(75.0, -20.0, -190.0), (70.0, -10.0, -150.0)]


@pytest.fixture
def scene(clean_scene):
    edit = make_edit_scene(clean_scene, ("a", "b"))
    edit.logic.set_parameters(
        {
            "algorithm": "connected_threshold",
            "brush_radius_mm": 30.0,
            "sampling_method": "min_max",
            "edge_sensitivity": 0.0,
        }
    )
    yield edit
    edit.remove(clean_scene.scene)


def segment(edit, segment_id: str) -> np.ndarray:
    shape = volume_array(edit.volume).shape
    return read_segment_full(edit.segmentation, segment_id, shape, ijk_to_ras(edit.volume))


def planned(edit, points) -> np.ndarray:
    full = np.zeros(volume_array(edit.volume).shape, dtype=bool)
    for result in edit.logic.plan_stroke(points).results:
        full[result.region.slices] |= result.mask
    return full


def test_parameters_are_parsed_once_while_the_editor_node_is_unchanged(scene):
    first = scene.logic.parameters
    assert scene.logic.parameters is first


def test_attributes_set_on_the_node_directly_are_seen(scene):
    before = scene.logic.parameters
    scene.editor.SetAttribute(ATTRIBUTE_PREFIX + "brush_radius_mm", "12.5")
    assert scene.logic.parameters["brush_radius_mm"] == 12.5
    assert before["brush_radius_mm"] == 30.0, "an earlier parameter set does not change"


def test_set_and_restore_parameters_are_seen_at_once(scene):
    scene.logic.set_parameters({"edge_sensitivity": 70.0})
    assert scene.logic.parameters["edge_sensitivity"] == 70.0
    scene.logic.restore_parameters({"brush_radius_mm": 8.0})
    params = scene.logic.parameters
    assert params["brush_radius_mm"] == 8.0 and params["edge_sensitivity"] == 40.0
    assert params["algorithm"] == "geodesic_distance", "unset names fall back to defaults"


def test_drag_writes_the_union_of_its_points_and_nothing_else(scene):
    expected = planned(scene, POINTS)
    scene.logic.stroke(POINTS)
    assert expected.sum() > 1000
    assert np.array_equal(segment(scene, "a"), expected)
    assert not segment(scene, "b").any()


def test_erase_removes_exactly_the_planned_voxels(scene):
    scene.logic.stroke([POINTS[0]])
    painted = segment(scene, "a")
    scene.logic.set_parameters({"brush_radius_mm": 15.0})
    erased = planned(scene, [POINTS[0]])
    scene.logic.stroke([POINTS[0]], erase=True)
    assert (painted & erased).sum() > 50
    assert np.array_equal(segment(scene, "a"), painted & ~erased)


def test_painting_another_segment_takes_voxels_from_the_first(scene):
    scene.logic.stroke([POINTS[0]])
    first = segment(scene, "a")
    scene.editor.SetSelectedSegmentID("b")
    scene.logic.set_parameters({"brush_radius_mm": 15.0})
    second = planned(scene, [POINTS[0]])
    scene.logic.stroke([POINTS[0]])
    assert (first & second).sum() > 50
    assert np.array_equal(segment(scene, "b"), second)
    assert np.array_equal(segment(scene, "a"), first & ~second), "overwrite all is the default"
    layers = scene.segmentation.GetSegmentation().GetNumberOfLayers()
    assert layers == 1, "no overlap, so both segments still share one labelmap"
