"""In-place segment writes on real MRML nodes, checked against Slicer's own editor logic.

Every in-place write must give exactly what ``vtkSlicerSegmentEditorLogic`` gives on a twin
segmentation with the same layers, masking settings and visibilities; the other tests pin
down layers, extents, events, undo and the fallback.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import slicer
import vtk
from SegmentEditorAdaptiveBrushLib.scene.effect_logic import new_editor_logic
from SegmentEditorAdaptiveBrushLib.scene.segments import (
    BINARY_LABELMAP,
    GROWTH_MIN_VOXELS,
    allocate_segment_labelmap,
    flip_segments_boxes,
    modify_segment_box,
    read_segment_box,
    read_segment_full,
    write_segment_box,
    write_segments_box,
    write_segments_boxes,
)
from SegmentEditorAdaptiveBrushLib.scene.volume import ijk_to_ras, oriented_image, volume_array
from SegmentEditorAdaptiveBrushTesterLib.scene.sample_data import load_volume
from vtk.util.misc import calldata_type

EDITOR = slicer.vtkMRMLSegmentEditorNode
SEGMENTATION = slicer.vtkMRMLSegmentationNode
SEGMENTS_LOGGER = "SegmentEditorAdaptiveBrushLib.scene.segments"

# Brush box (k, j, i) in the chest CT (34 x 128 x 128), over lung and chest wall.
BOX_START = (12, 50, 20)
BOX_SHAPE = (8, 24, 24)


@pytest.fixture(scope="module")
def volume(context):
    node = load_volume(context, "default")
    yield node
    for helper in (node.GetDisplayNode(), node.GetStorageNode(), node):
        if helper is not None:
            context.scene.RemoveNode(helper)


@pytest.fixture
def made(clean_scene):
    """Editings a test creates, removed afterwards even when the test fails."""
    editings: list[Editing] = []
    yield editings
    for editing in reversed(editings):
        editing.remove(clean_scene.scene)


@dataclass
class Editing:
    """A segmentation with its own editor node and Slicer editor logic."""

    segmentation: Any
    editor: Any
    logic: Any

    def remove(self, scene: Any) -> None:
        display = self.segmentation.GetDisplayNode()
        for node in (self.editor, display, self.segmentation):
            if node is not None:
                scene.RemoveNode(node)


def new_editing(context, volume, made, segment_names=("a", "b", "c")) -> Editing:
    segmentation = context.scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "io test")
    segmentation.CreateDefaultDisplayNodes()
    segmentation.SetReferenceImageGeometryParameterFromVolumeNode(volume)
    for name in segment_names:
        segmentation.GetSegmentation().AddEmptySegment(name, name)
    editor = context.scene.AddNewNodeByClass("vtkMRMLSegmentEditorNode")
    editor.SetAndObserveSegmentationNode(segmentation)
    editor.SetAndObserveSourceVolumeNode(volume)
    if segment_names:
        editor.SetSelectedSegmentID(segment_names[0])
    made.append(Editing(segmentation, editor, new_editor_logic(context, editor)))
    return made[-1]


def twin_of(context, volume, made, original: Editing) -> Editing:
    """A second segmentation with the same segments, layers and visibilities."""
    twin = new_editing(context, volume, made, ())
    twin.segmentation.GetSegmentation().DeepCopy(original.segmentation.GetSegmentation())
    twin.editor.SetSelectedSegmentID(original.editor.GetSelectedSegmentID())
    display, twin_display = (e.segmentation.GetDisplayNode() for e in (original, twin))
    for sid in segment_ids_of(original):
        twin_display.SetSegmentVisibility(sid, display.GetSegmentVisibility(sid))
    for getter, setter in (
        ("GetMaskMode", "SetMaskMode"),
        ("GetMaskSegmentID", "SetMaskSegmentID"),
        ("GetOverwriteMode", "SetOverwriteMode"),
        ("GetSourceVolumeIntensityMask", "SetSourceVolumeIntensityMask"),
        ("GetSourceVolumeIntensityMaskRange", "SetSourceVolumeIntensityMaskRange"),
    ):
        getattr(twin.editor, setter)(getattr(original.editor, getter)())
    return twin


def segment_ids_of(editing: Editing) -> list[str]:
    segmentation = editing.segmentation.GetSegmentation()
    return [segmentation.GetNthSegmentID(n) for n in range(segmentation.GetNumberOfSegments())]


def state(editing: Editing, volume) -> dict[str, np.ndarray]:
    shape, matrix = volume_array(volume).shape, ijk_to_ras(volume)
    return {
        sid: read_segment_full(editing.segmentation, sid, shape, matrix)
        for sid in segment_ids_of(editing)
    }


def ball(shape, center, radius) -> np.ndarray:
    k, j, i = np.ogrid[: shape[0], : shape[1], : shape[2]]
    return (k - center[0]) ** 2 + (j - center[1]) ** 2 + (i - center[2]) ** 2 <= radius**2


def slicer_write(editing: Editing, volume, segment_id, start, mask, add=True) -> None:
    mode = editing.logic.ModificationModeAdd if add else editing.logic.ModificationModeRemove
    image = oriented_image(mask, start, ijk_to_ras(volume))
    editing.logic.ModifySegmentByLabelmap(editing.segmentation, segment_id, image, mode, True, True)


def prepare(context, volume, made, shared: bool) -> Editing:
    """Segments a, b, c around the brush box; one shared layer, or b overlapping a."""
    editing = new_editing(context, volume, made)
    slicer_write(editing, volume, "a", (14, 58, 28), ball((5, 9, 9), (2, 4, 4), 4))
    b_start = (14, 60, 30) if not shared else (13, 64, 36)
    slicer_write(editing, volume, "b", b_start, np.ones((4, 10, 10), dtype=bool))
    slicer_write(editing, volume, "c", (15, 52, 22), np.ones((3, 8, 8), dtype=bool))
    layers = editing.segmentation.GetSegmentation().GetNumberOfLayers()
    assert (layers == 1) is shared
    editing.segmentation.GetDisplayNode().SetSegmentVisibility("b", False)
    return editing


def brush_mask() -> np.ndarray:
    return ball(BOX_SHAPE, (4, 12, 12), 9)


MASK_MODES = [
    SEGMENTATION.EditAllowedEverywhere,
    SEGMENTATION.EditAllowedInsideAllSegments,
    SEGMENTATION.EditAllowedInsideVisibleSegments,
    SEGMENTATION.EditAllowedOutsideAllSegments,
    SEGMENTATION.EditAllowedOutsideVisibleSegments,
    SEGMENTATION.EditAllowedInsideSingleSegment,
]
OVERWRITE_MODES = [
    EDITOR.OverwriteAllSegments,
    EDITOR.OverwriteVisibleSegments,
    EDITOR.OverwriteNone,
]


@pytest.mark.parametrize("erase", [False, True], ids=["paint", "erase"])
@pytest.mark.parametrize("mask_mode", MASK_MODES)
@pytest.mark.parametrize("overwrite", OVERWRITE_MODES)
@pytest.mark.parametrize("intensity", [False, True], ids=["any-intensity", "intensity-range"])
@pytest.mark.parametrize("shared", [True, False], ids=["shared-layer", "own-layers"])
def test_strokes_match_slicer_editor_logic(
    clean_scene, volume, made, erase, mask_mode, overwrite, intensity, shared
):
    ours = prepare(clean_scene, volume, made, shared)
    ours.editor.SetMaskMode(mask_mode)
    ours.editor.SetMaskSegmentID("c")
    ours.editor.SetOverwriteMode(overwrite)
    ours.editor.SetSourceVolumeIntensityMask(intensity)
    ours.editor.SetSourceVolumeIntensityMaskRange(-900.0, 100.0)
    slicers = twin_of(clean_scene, volume, made, ours)
    if erase:  # something to erase in a first
        for editing in (ours, slicers):
            slicer_write(editing, volume, "a", BOX_START, ball(BOX_SHAPE, (4, 10, 14), 5))
    matrix, voxels = ijk_to_ras(volume), volume_array(volume)
    modify_segment_box(
        ours.logic, ours.segmentation, "a", BOX_START, brush_mask(), erase, matrix, voxels
    )
    mode = slicers.logic.ModificationModeRemove if erase else slicers.logic.ModificationModeAdd
    image = oriented_image(brush_mask(), BOX_START, matrix)
    slicers.logic.ModifySegmentByLabelmap(slicers.segmentation, "a", image, mode, True, False)
    expected, got = state(slicers, volume), state(ours, volume)
    assert expected.keys() == got.keys()
    for sid in expected:
        assert np.array_equal(got[sid], expected[sid]), sid


@pytest.fixture
def editing(clean_scene, volume, made):
    return new_editing(clean_scene, volume, made, ("a", "b"))


def extent_kji(editing: Editing, segment_id: str) -> tuple[np.ndarray, np.ndarray]:
    image = editing.segmentation.GetSegmentation().GetSegment(segment_id)
    e = image.GetRepresentation(BINARY_LABELMAP).GetExtent()
    return np.array([e[4], e[2], e[0]]), np.array([e[5] + 1, e[3] + 1, e[1] + 1])


def grown(caplog) -> int:
    return sum("labelmap grown" in record.message for record in caplog.records)


def test_strokes_are_written_in_place_and_the_layer_grows_with_margins(editing, volume, caplog):
    matrix, shape = ijk_to_ras(volume), np.array(volume_array(volume).shape)
    segmentation = editing.segmentation.GetSegmentation()
    address = (
        segmentation.GetSegment("a")
        .GetRepresentation(BINARY_LABELMAP)
        .GetAddressAsString("vtkObject")
    )
    small = np.ones((2, 3, 3), dtype=bool)
    with caplog.at_level(logging.DEBUG, logger=SEGMENTS_LOGGER):
        modify_segment_box(
            editing.logic, editing.segmentation, "a", BOX_START, brush_mask(), False, matrix
        )
        assert grown(caplog) == 1
        low, high = extent_kji(editing, "a")
        box_low = np.array(BOX_START) + (0, 3, 3)  # the ball's own box inside BOX_SHAPE
        box_high = np.array(BOX_START) + (8, 22, 22)
        assert np.all(low <= box_low) and np.all(high >= box_high)
        assert np.all((box_low - low >= GROWTH_MIN_VOXELS) | (low == 0))
        assert np.all((high - box_high >= GROWTH_MIN_VOXELS) | (high == shape))
        assert np.prod(high - low) < np.prod(shape) / 4, "not the whole volume"
        inside = tuple(int(v) for v in low + 1)
        modify_segment_box(editing.logic, editing.segmentation, "b", inside, small, False, matrix)
        assert grown(caplog) == 1, "a write inside the extent does not reallocate"
        modify_segment_box(
            editing.logic, editing.segmentation, "b", (2, 100, 100), small, False, matrix
        )
        assert grown(caplog) == 2
    assert "through Slicer" not in caplog.text
    layer = segmentation.GetSegment("a").GetRepresentation(BINARY_LABELMAP)
    assert layer.GetAddressAsString("vtkObject") == address, "segments keep sharing the layer"
    assert segmentation.GetNumberOfLayers() == 1
    expected = np.zeros(tuple(shape), dtype=bool)
    expected[tuple(slice(s, s + n) for s, n in zip(BOX_START, BOX_SHAPE, strict=True))] = (
        brush_mask()
    )
    got = state(editing, volume)
    assert np.array_equal(got["a"], expected), "growing kept what was painted"
    assert got["b"].sum() == 36 and got["b"][2:4, 100:103, 100:103].all()
    assert got["b"][
        inside[0] : inside[0] + 2, inside[1] : inside[1] + 3, inside[2] : inside[2] + 3
    ].all()


def test_box_write_keeps_the_other_segment_of_a_shared_layer(editing, volume):
    matrix = ijk_to_ras(volume)
    b_block = np.ones((3, 6, 6), dtype=bool)
    write_segment_box(editing.logic, editing.segmentation, "b", (14, 60, 30), b_block, matrix)
    a_mask = ball((6, 10, 10), (3, 5, 5), 4)
    a_mask[:, :, 8:] = False  # stays clear of b, which starts at i = 30
    write_segment_box(editing.logic, editing.segmentation, "a", (13, 58, 22), a_mask, matrix)
    assert editing.segmentation.GetSegmentation().GetNumberOfLayers() == 1
    got = state(editing, volume)
    assert got["b"].sum() == b_block.sum() and got["b"][14:17, 60:66, 30:36].all()
    assert got["a"].sum() == a_mask.sum() and np.array_equal(got["a"][13:19, 58:68, 22:32], a_mask)
    write_segment_box(
        editing.logic, editing.segmentation, "a", (13, 58, 22), np.zeros_like(a_mask), matrix
    )
    got = state(editing, volume)
    assert not got["a"].any() and got["b"].sum() == b_block.sum()


def test_overlap_in_a_shared_layer_falls_back_to_slicer_and_stays_exact(editing, volume, caplog):
    matrix = ijk_to_ras(volume)
    start = (10, 40, 40)
    masks = {"a": ball((6, 12, 12), (3, 6, 6), 5), "b": ball((6, 12, 12), (3, 6, 8), 5)}
    editing.editor.SetSourceVolumeIntensityMask(True)
    editing.editor.SetSourceVolumeIntensityMaskRange(5000.0, 6000.0)  # excludes every voxel
    with caplog.at_level(logging.DEBUG, logger=SEGMENTS_LOGGER):
        write_segments_box(editing.logic, editing.segmentation, start, masks, matrix)
    assert "through Slicer" in caplog.text
    assert editing.editor.GetSourceVolumeIntensityMask(), "the user's setting is put back"
    got = state(editing, volume)
    for sid, mask in masks.items():
        assert got[sid].sum() == mask.sum()
        assert np.array_equal(got[sid][10:16, 40:52, 40:52], mask)


def test_restore_after_overwrite_is_exact_and_ignores_masking(editing, volume):
    """What the runner does on rewind: write back the boxes read before the step."""
    matrix, voxels = ijk_to_ras(volume), volume_array(volume)
    write_segment_box(
        editing.logic,
        editing.segmentation,
        "b",
        (12, 50, 20),
        np.ones((8, 12, 12), dtype=bool),
        matrix,
    )
    before = state(editing, volume)
    editing.editor.SetOverwriteMode(EDITOR.OverwriteAllSegments)
    modify_segment_box(
        editing.logic, editing.segmentation, "a", BOX_START, brush_mask(), False, matrix, voxels
    )
    painted = state(editing, volume)
    assert (before["b"] & ~painted["b"]).sum() > 100, "the stroke took voxels from b"
    editing.editor.SetMaskMode(SEGMENTATION.EditAllowedOutsideAllSegments)
    editing.editor.SetSourceVolumeIntensityMask(True)
    editing.editor.SetSourceVolumeIntensityMaskRange(5000.0, 6000.0)
    box = tuple(slice(s, s + n) for s, n in zip(BOX_START, BOX_SHAPE, strict=True))
    write_segments_box(
        editing.logic,
        editing.segmentation,
        BOX_START,
        {sid: before[sid][box] for sid in before},
        matrix,
    )
    restored = state(editing, volume)
    for sid in before:
        assert np.array_equal(restored[sid], before[sid]), sid


def test_batched_boxes_equal_one_by_one(editing, volume):
    matrix = ijk_to_ras(volume)
    boxes = [
        ((5, 20, 20), {"a": ball((5, 9, 9), (2, 4, 4), 4)}),
        ((7, 22, 22), {"a": np.zeros((5, 9, 9), dtype=bool), "b": ball((5, 9, 9), (2, 4, 4), 3)}),
        ((20, 90, 90), {"b": np.ones((2, 2, 2), dtype=bool)}),
    ]
    write_segments_boxes(editing.logic, editing.segmentation, boxes, matrix)
    expected = {sid: np.zeros(volume_array(volume).shape, dtype=bool) for sid in ("a", "b")}
    for start, masks in boxes:
        for sid, mask in masks.items():
            expected[sid][
                tuple(slice(s, s + n) for s, n in zip(start, mask.shape, strict=True))
            ] = mask
    got = state(editing, volume)
    for sid in expected:
        assert np.array_equal(got[sid], expected[sid]), sid


def test_in_place_writes_fire_the_events_slicer_edits_fire(editing, volume):
    matrix = ijk_to_ras(volume)
    write_segment_box(
        editing.logic, editing.segmentation, "b", BOX_START, np.ones(BOX_SHAPE, dtype=bool), matrix
    )
    seen: list[tuple[int, str | None]] = []

    def recorder(event_id):
        @calldata_type(vtk.VTK_STRING)
        def record(_caller, _event, calldata=None):
            seen.append((event_id, calldata))

        return record

    events = (
        slicer.vtkSegmentation.SourceRepresentationModified,
        slicer.vtkSegmentation.RepresentationModified,
        slicer.vtkSegmentation.SegmentModified,
    )
    tags = [editing.segmentation.AddObserver(e, recorder(e)) for e in events]
    try:
        modify_segment_box(
            editing.logic, editing.segmentation, "a", BOX_START, brush_mask(), False, matrix
        )
    finally:
        for tag in tags:
            editing.segmentation.RemoveObserver(tag)
    source, representation, segment = events
    assert any(event == source for event, _ in seen)
    changed = {data for event, data in seen if event == representation}
    assert changed == {"a", "b"}, "b lost the painted voxels (overwrite all)"
    assert {"a", "b"} <= {data for event, data in seen if event == segment}


def test_undo_restores_the_state_before_an_in_place_stroke(editing, volume):
    matrix = ijk_to_ras(volume)
    editing.logic.SetMaximumNumberOfUndoStates(5)
    modify_segment_box(
        editing.logic, editing.segmentation, "a", BOX_START, brush_mask(), False, matrix
    )
    first = state(editing, volume)
    assert editing.logic.SaveStateForUndo()
    modify_segment_box(
        editing.logic,
        editing.segmentation,
        "a",
        (2, 2, 2),
        np.ones((3, 3, 3), dtype=bool),
        False,
        matrix,
    )
    modify_segment_box(
        editing.logic, editing.segmentation, "a", BOX_START, brush_mask(), True, matrix
    )
    assert not np.array_equal(state(editing, volume)["a"], first["a"])
    editing.logic.Undo()
    undone = state(editing, volume)
    for sid in first:
        assert np.array_equal(undone[sid], first[sid]), sid
    modify_segment_box(
        editing.logic,
        editing.segmentation,
        "a",
        (2, 2, 2),
        np.ones((3, 3, 3), dtype=bool),
        False,
        matrix,
    )
    assert state(editing, volume)["a"].sum() == first["a"].sum() + 27, "edits go on after undo"


def test_first_stroke_marks_the_segment_in_progress(editing, volume):
    status = slicer.vtkSlicerSegmentationsModuleLogic
    segment = editing.segmentation.GetSegmentation().GetSegment("a")
    assert status.GetSegmentStatus(segment) == status.NotStarted
    modify_segment_box(
        editing.logic, editing.segmentation, "a", BOX_START, brush_mask(), False, ijk_to_ras(volume)
    )
    assert status.GetSegmentStatus(segment) == status.InProgress


def test_allocating_a_segment_covers_the_volume_and_keeps_its_voxels(editing, volume, caplog):
    matrix, shape = ijk_to_ras(volume), volume_array(volume).shape
    write_segment_box(editing.logic, editing.segmentation, "b", BOX_START, brush_mask(), matrix)
    before = state(editing, volume)
    assert allocate_segment_labelmap(editing.segmentation, "a", matrix)
    low, high = extent_kji(editing, "a")
    assert tuple(low) == (0, 0, 0) and tuple(high) == shape
    assert editing.segmentation.GetSegmentation().GetNumberOfLayers() == 1
    after = state(editing, volume)
    for sid in before:
        assert np.array_equal(after[sid], before[sid]), sid
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger=SEGMENTS_LOGGER):
        modify_segment_box(
            editing.logic,
            editing.segmentation,
            "a",
            (0, 0, 0),
            np.ones((2, 2, 2), bool),
            False,
            matrix,
        )
    assert grown(caplog) == 0


def test_boxes_from_a_generator_see_the_writes_before_them(editing, volume):
    """The runner's restore reads each box just before writing it; boxes may overlap."""
    matrix = ijk_to_ras(volume)
    flip = ball((6, 12, 12), (3, 6, 6), 5)
    flips = [((10, 40, 40), flip), ((12, 44, 44), flip)]
    expected = np.zeros(volume_array(volume).shape, dtype=bool)
    for start, xor in flips:
        expected[tuple(slice(s, s + n) for s, n in zip(start, xor.shape, strict=True))] ^= xor

    def targets():
        for start, xor in flips:
            stop = [s + n for s, n in zip(start, xor.shape, strict=True)]
            current = read_segment_box(editing.segmentation, "a", start, stop, matrix)
            yield start, {"a": current ^ xor}

    write_segments_boxes(editing.logic, editing.segmentation, targets(), matrix)
    assert np.array_equal(state(editing, volume)["a"], expected)


def test_flips_toggle_voxels_in_place_in_order(editing, volume, caplog):
    matrix, shape = ijk_to_ras(volume), volume_array(volume).shape
    assert allocate_segment_labelmap(editing.segmentation, "a", matrix)
    write_segment_box(
        editing.logic,
        editing.segmentation,
        "a",
        (10, 40, 40),
        ball((6, 12, 12), (3, 6, 6), 4),
        matrix,
    )
    expected = state(editing, volume)["a"]
    flips = [
        ((10, 40, 40), ball((6, 12, 12), (3, 6, 8), 5)),
        ((11, 42, 42), ball((6, 12, 12), (3, 6, 6), 5)),
    ]
    for start, xor in flips:
        expected[tuple(slice(s, s + n) for s, n in zip(start, xor.shape, strict=True))] ^= xor
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger=SEGMENTS_LOGGER):
        flip_segments_boxes(
            editing.logic, editing.segmentation, [(s, {"a": x}) for s, x in flips], matrix
        )
    assert caplog.text == "", "flipped in place: no growth, no general write"
    got = state(editing, volume)
    assert np.array_equal(got["a"], expected) and not got["b"].any()
    assert tuple(extent_kji(editing, "a")[1]) == shape


def test_flips_that_move_voxels_between_shared_segments_are_exact(editing, volume):
    """A rewind past an "overwrite other segments" stroke: a gives voxels back to b."""
    matrix = ijk_to_ras(volume)
    start, block = (10, 40, 40), np.ones((4, 8, 8), dtype=bool)
    write_segment_box(editing.logic, editing.segmentation, "b", start, block, matrix)
    before = state(editing, volume)
    painted = np.zeros_like(block)
    painted[1:3, 2:6, 2:6] = True
    modify_segment_box(editing.logic, editing.segmentation, "a", start, painted, False, matrix)
    after = state(editing, volume)
    assert after["a"].sum() == painted.sum() and after["b"].sum() == block.sum() - painted.sum()
    flip_segments_boxes(
        editing.logic, editing.segmentation, [(start, {"a": painted, "b": painted})], matrix
    )
    restored = state(editing, volume)
    for sid in before:
        assert np.array_equal(restored[sid], before[sid]), sid
    assert editing.segmentation.GetSegmentation().GetNumberOfLayers() == 1


def test_flips_outside_the_stored_extent_grow_it(editing, volume):
    matrix = ijk_to_ras(volume)
    write_segment_box(
        editing.logic, editing.segmentation, "a", (2, 2, 2), np.ones((2, 2, 2), bool), matrix
    )
    far = ball((4, 6, 6), (2, 3, 3), 2)
    flip_segments_boxes(editing.logic, editing.segmentation, [((25, 100, 100), {"a": far})], matrix)
    got = state(editing, volume)["a"]
    assert got.sum() == 8 + far.sum() and np.array_equal(got[25:29, 100:106, 100:106], far)
