"""The Segment Editor's masking settings, honoured by strokes and restored by rewinds."""

from __future__ import annotations

import numpy as np
import pytest
import slicer
from SegmentEditorAdaptiveBrushLib.scene.segments import read_segment_full, write_segment_box
from SegmentEditorAdaptiveBrushLib.scene.volume import ijk_to_ras, volume_array
from SegmentEditorAdaptiveBrushTesterLib import ActionRecipe, RecipeAction, SteppingRecipeRunner

from .helpers import make_edit_scene

CENTER = (70.0, -10.0, -150.0)  # right lung, next to the chest wall at r = 40 mm
EDITOR = slicer.vtkMRMLSegmentEditorNode
SEGMENTATION = slicer.vtkMRMLSegmentationNode


@pytest.fixture
def scene(clean_scene):
    edit = make_edit_scene(clean_scene, ("a", "b"))
    edit.logic.set_parameters(
        {
            "algorithm": "connected_threshold",
            "brush_radius_mm": 40.0,
            "sampling_method": "min_max",
            "edge_sensitivity": 0.0,
        }
    )
    yield edit
    edit.remove(clean_scene.scene)


def segment(edit, segment_id: str) -> np.ndarray:
    volume = volume_array(edit.volume)
    return read_segment_full(edit.segmentation, segment_id, volume.shape, ijk_to_ras(edit.volume))


def fill_b_with_a_block(edit) -> np.ndarray:
    block = np.zeros((3, 20, 20), dtype=bool)
    block[:, 5:15, 5:15] = True
    write_segment_box(
        edit.logic.editor_logic,
        edit.segmentation,
        "b",
        (14, 60, 80),
        block,
        ijk_to_ras(edit.volume),
    )
    return segment(edit, "b")


def planned_mask(edit) -> np.ndarray:
    plan = edit.logic.plan_stroke([CENTER])
    full = np.zeros(volume_array(edit.volume).shape, dtype=bool)
    for result in plan.results:
        full[result.region.slices] |= result.mask
    return full


def test_plain_stroke_writes_exactly_the_planned_voxels(scene):
    expected = planned_mask(scene)
    scene.logic.stroke([CENTER])
    assert expected.sum() > 1000
    assert np.array_equal(segment(scene, "a"), expected)


@pytest.mark.parametrize(
    ("mode", "b_keeps_overlap"),
    [
        (EDITOR.OverwriteAllSegments, False),
        (EDITOR.OverwriteVisibleSegments, False),
        (EDITOR.OverwriteNone, True),
    ],
)
def test_overwrite_other_segments(scene, mode, b_keeps_overlap):
    b_before = fill_b_with_a_block(scene)
    scene.editor.SetOverwriteMode(mode)
    scene.logic.stroke([CENTER])
    a, b = segment(scene, "a"), segment(scene, "b")
    overlap = b_before & a
    assert overlap.sum() > 50
    assert bool(b[overlap].all()) is b_keeps_overlap
    assert np.array_equal(b[~a], b_before[~a]), "b changes only where a was painted"


def test_editable_intensity_range(scene):
    scene.editor.SetSourceVolumeIntensityMask(True)
    scene.editor.SetSourceVolumeIntensityMaskRange(-1000.0, -850.0)
    expected = planned_mask(scene)
    scene.logic.stroke([CENTER])
    a = segment(scene, "a")
    values = volume_array(scene.volume)[a]
    assert a.sum() > 100 and values.min() >= -1000 and values.max() <= -850
    assert not (a & ~expected).any()


def test_editable_area_inside_one_segment(scene):
    b = fill_b_with_a_block(scene)
    scene.editor.SetMaskMode(SEGMENTATION.EditAllowedInsideSingleSegment)
    scene.editor.SetMaskSegmentID("b")
    scene.logic.stroke([CENTER])
    a = segment(scene, "a")
    assert a.sum() > 50 and not (a & ~b).any(), "nothing outside the editable area changes"


def test_editable_area_outside_all_segments(scene):
    b = fill_b_with_a_block(scene)
    scene.editor.SetMaskMode(SEGMENTATION.EditAllowedOutsideAllSegments)
    scene.logic.stroke([CENTER])
    a = segment(scene, "a")
    assert a.sum() > 1000 and not (a & b).any()
    assert np.array_equal(segment(scene, "b"), b)


def test_erase_honours_the_intensity_range(scene):
    scene.logic.stroke([CENTER])
    painted = segment(scene, "a")
    scene.editor.SetSourceVolumeIntensityMask(True)
    scene.editor.SetSourceVolumeIntensityMaskRange(-1000.0, -900.0)
    scene.logic.stroke([CENTER], erase=True)
    after = segment(scene, "a")
    removed = painted & ~after
    values = volume_array(scene.volume)
    assert removed.sum() > 10 and values[removed].max() <= -900
    kept = painted & (values > -900)
    assert kept.any() and after[kept].all(), "voxels outside the range are not erased"


def test_rewind_restores_segments_overwritten_by_a_step(clean_scene):
    recipe = ActionRecipe(
        name="overwrite",
        sample_data="default",
        segment_name="a",
        actions=[
            RecipeAction.paint(
                CENTER,
                algorithm="connected_threshold",
                brush_radius_mm=40.0,
                sampling_method="min_max",
            )
        ],
    )
    runner = SteppingRecipeRunner(recipe)
    runner.setup()
    try:
        matrix = runner.volume_ijk_to_ras()
        shape = volume_array(runner.volume_node).shape
        other = runner.segmentation_node.GetSegmentation().AddEmptySegment("other", "other")
        block = np.ones((3, 20, 20), dtype=bool)
        write_segment_box(
            runner.logic.editor_logic, runner.segmentation_node, other, (14, 60, 80), block, matrix
        )
        runner.capture_initial_state()
        runner.editor_node.SetOverwriteMode(EDITOR.OverwriteAllSegments)
        runner.step_forward()
        after = read_segment_full(runner.segmentation_node, other, shape, matrix)
        assert after.sum() < block.sum(), "the paint removed voxels of the other segment"
        runner.step_backward()
        restored = read_segment_full(runner.segmentation_node, other, shape, matrix)
        assert restored.sum() == block.sum()
        assert restored[14:17, 60:80, 80:100].all()
        assert not runner.current_segment_array().any()
        runner.step_forward()
        assert np.array_equal(
            read_segment_full(runner.segmentation_node, other, shape, matrix), after
        )
    finally:
        runner.cleanup()
