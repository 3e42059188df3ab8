"""Reading and writing boxes of segments in the source volume's voxel grid.

Reads go straight to the segment's stored binary labelmap (a numpy view, compared with the
segment's label value, so shared layers work).

Writes change the stored labelmaps in place, touching only the box: each layer keeps its
``vtkOrientedImageData`` (segments sharing it keep sharing it). A layer that has to grow
grows with a margin of half its size on the sides that need it, so a session of strokes
reallocates a few times instead of at every stroke that leaves the painted area, while the
labelmap stays close to the painted region (Slicer's undo history deep-copies the whole
stored labelmap at every saved state). Slicer's
``vtkSlicerSegmentEditorLogic.ModifySegmentByLabelmap`` takes over wherever a write cannot
be done in place: one voxel of a shared layer would need two labels, the labelmap lies on
another grid, the source representation is not a binary labelmap, or erasing inside a
single segment must give voxels back to it. Slicer then separates layers or resamples as
it always does.

After an in-place write every changed layer image is marked modified (the segmentation then
invokes SourceRepresentationModified and drops derived representations, and Slicer's undo
history sees a new modification time), and every changed segment gets RepresentationModified
and SegmentModified, the events Slicer's own edits end with.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import slicer
import vtk
from vtk.util import numpy_support

from .errors import SceneError
from .volume import (
    GEOMETRY_TOLERANCE_MM,
    check_same_grid,
    image_to_world,
    numpy_to_matrix,
    oriented_image,
)

logger = logging.getLogger(__name__)

BINARY_LABELMAP = "Binary labelmap"
Box = tuple[tuple[int, int, int], tuple[int, int, int]]
Index3 = tuple[int, int, int]
BoxMasks = tuple[Sequence[int], Mapping[str, np.ndarray]]

GROWTH_MIN_VOXELS = 16
"""Smallest margin (voxels) a growing labelmap gets beyond the box that made it grow."""


class InPlaceWriteError(SceneError):
    """A write cannot be done in the stored labelmap itself; Slicer's editor logic does it."""


# Segments ---------------------------------------------------------------------------------


def get_segment(segmentation_node: Any, segment_id: str) -> Any:
    """The vtkSegment, or SceneError naming the missing id."""
    segment = segmentation_node.GetSegmentation().GetSegment(segment_id)
    if segment is None:
        raise SceneError(
            f"segment '{segment_id}' is not in segmentation '{segmentation_node.GetName()}'"
        )
    return segment


def segment_ids(segmentation_node: Any) -> list[str]:
    """Ids of every segment, in display order."""
    segmentation = segmentation_node.GetSegmentation()
    return [segmentation.GetNthSegmentID(n) for n in range(segmentation.GetNumberOfSegments())]


# Stored labelmaps -------------------------------------------------------------------------


def _extent_box(image: Any) -> tuple[Index3, Index3]:
    """(start, stop) of an image's extent as (k, j, i) indices, stop exclusive."""
    e = image.GetExtent()
    return (e[4], e[2], e[0]), (e[5] + 1, e[3] + 1, e[1] + 1)


def _is_empty(image: Any) -> bool:
    return bool(image.IsEmpty()) or image.GetPointData().GetScalars() is None


def _labelmap_view(image: Any) -> np.ndarray:
    """(k, j, i) numpy view of a stored labelmap's scalars (writes go into the labelmap)."""
    start, stop = _extent_box(image)
    scalars = numpy_support.vtk_to_numpy(image.GetPointData().GetScalars())
    return scalars.reshape(tuple(b - a for a, b in zip(start, stop, strict=True)))


def _overlap(
    start: npt.ArrayLike, stop: npt.ArrayLike, other_start: npt.ArrayLike, other_stop: npt.ArrayLike
) -> tuple[tuple[slice, ...], tuple[slice, ...]] | None:
    """Slices of the common part of two (k, j, i) boxes, relative to the first and the second."""
    first, second = np.asarray(start), np.asarray(other_start)
    low = np.maximum(first, second)
    high = np.minimum(np.asarray(stop), np.asarray(other_stop))
    if np.any(high <= low):
        return None
    mine = tuple(
        slice(int(lo - s), int(hi - s)) for lo, hi, s in zip(low, high, first, strict=True)
    )
    theirs = tuple(
        slice(int(lo - s), int(hi - s)) for lo, hi, s in zip(low, high, second, strict=True)
    )
    return mine, theirs


def _layer_values(image: Any, start: Sequence[int], shape: Sequence[int]) -> np.ndarray:
    """A copy of a stored labelmap's values over a box; 0 where the box leaves its extent."""
    scalars = image.GetPointData().GetScalars()
    dtype = (
        np.uint8 if scalars is None else numpy_support.get_numpy_array_type(scalars.GetDataType())
    )
    values = np.zeros(tuple(int(n) for n in shape), dtype=dtype)
    if _is_empty(image):
        return values
    stop = [int(a) + int(n) for a, n in zip(start, shape, strict=True)]
    common = _overlap(start, stop, *_extent_box(image))
    if common is not None:
        values[common[0]] = _labelmap_view(image)[common[1]]
    return values


def _on_grid(image: Any, ijk_to_ras: np.ndarray) -> bool:
    difference = np.abs(image_to_world(image) - ijk_to_ras)
    return float(difference.max()) <= GEOMETRY_TOLERANCE_MM


def allocate_segment_labelmap(
    segmentation_node: Any, segment_id: str, ijk_to_ras: np.ndarray
) -> bool:
    """Grow the segment's stored labelmap (its layer) to the whole reference geometry now.

    For callers that will paint all over the volume and keep their own history (the
    stepping runner): later writes then never reallocate. Interactive editing is better off
    without it, because Slicer's undo deep-copies the whole stored labelmap at every saved
    state. Returns False (and changes nothing) when the labelmap is not on the volume's grid
    or the segmentation has no usable reference geometry.
    """
    segmentation = segmentation_node.GetSegmentation()
    image = get_segment(segmentation_node, segment_id).GetRepresentation(BINARY_LABELMAP)
    reference = _reference_box(segmentation, ijk_to_ras)
    if image is None or reference is None:
        return False
    if not _is_empty(image):
        if not _on_grid(image, ijk_to_ras):
            return False
        if _contains(image, *reference):
            return True
    _grow(image, reference[0], reference[1], reference, ijk_to_ras)
    image.Modified()
    return True


# Reading ----------------------------------------------------------------------------------


def read_segment_box(
    segmentation_node: Any,
    segment_id: str,
    start: Sequence[int],
    stop: Sequence[int],
    ijk_to_ras: np.ndarray,
) -> np.ndarray:
    """Bool (k, j, i) array of one segment over the box [start, stop) of the volume grid."""
    shape = tuple(int(b) - int(a) for a, b in zip(start, stop, strict=True))
    segment = get_segment(segmentation_node, segment_id)
    image = segment.GetRepresentation(BINARY_LABELMAP)
    if image is None or _is_empty(image):
        return np.zeros(shape, dtype=bool)
    check_same_grid(image, ijk_to_ras, f"segment '{segment.GetName()}'")
    return _layer_values(image, start, shape) == segment.GetLabelValue()


def read_segments_box(
    segmentation_node: Any,
    ids: Iterable[str],
    start: Sequence[int],
    stop: Sequence[int],
    ijk_to_ras: np.ndarray,
) -> dict[str, np.ndarray]:
    """``read_segment_box`` for several segments."""
    return {sid: read_segment_box(segmentation_node, sid, start, stop, ijk_to_ras) for sid in ids}


def read_segment_full(
    segmentation_node: Any, segment_id: str, shape: Sequence[int], ijk_to_ras: np.ndarray
) -> np.ndarray:
    """Bool (k, j, i) array of one segment over the whole volume."""
    return read_segment_box(segmentation_node, segment_id, (0, 0, 0), shape, ijk_to_ras)


# Writing in place: plan every layer first, then store, so a write is all or nothing -----


@dataclass
class _LayerEdit:
    """New values of one stored labelmap (a layer) over a box.

    ``before`` and ``after`` are (k, j, i) over the box; ``before`` is 0 where the box
    leaves the stored extent. ``segment_ids`` are the layer's segments being written.
    """

    image: Any
    start: Index3
    before: np.ndarray
    after: np.ndarray
    segment_ids: list[str]
    labels: list[int]

    def changed_segments(self) -> list[str]:
        return [
            sid
            for sid, label in zip(self.segment_ids, self.labels, strict=True)
            if np.any((self.before == label) != (self.after == label))
        ]


def _plan_layers(
    segmentation_node: Any,
    start: Sequence[int],
    masks: Mapping[str, np.ndarray],
    ijk_to_ras: np.ndarray,
) -> list[_LayerEdit]:
    """Per stored layer, the values that make each segment of ``masks`` equal its mask.

    Raises
    ------
    InPlaceWriteError
        When the layers cannot hold the result as they are (see the module docstring).
    """
    segmentation = segmentation_node.GetSegmentation()
    if segmentation.GetSourceRepresentationName() != BINARY_LABELMAP:
        raise InPlaceWriteError("the source representation is not a binary labelmap")
    by_layer: dict[int, list[str]] = {}
    for sid in masks:
        get_segment(segmentation_node, sid)
        by_layer.setdefault(segmentation.GetLayerIndex(sid, BINARY_LABELMAP), []).append(sid)
    if -1 in by_layer:
        raise InPlaceWriteError(f"segments {by_layer[-1]} have no binary labelmap")
    origin = (int(start[0]), int(start[1]), int(start[2]))
    return [_plan_layer(segmentation, ids, origin, masks, ijk_to_ras) for ids in by_layer.values()]


def _plan_layer(
    segmentation: Any,
    ids: list[str],
    start: Index3,
    masks: Mapping[str, np.ndarray],
    ijk_to_ras: np.ndarray,
) -> _LayerEdit:
    image = segmentation.GetSegment(ids[0]).GetRepresentation(BINARY_LABELMAP)
    if not _is_empty(image) and not _on_grid(image, ijk_to_ras):
        raise InPlaceWriteError("the stored labelmap is not on the source volume's grid")
    wanted = [np.asarray(masks[sid], dtype=bool) for sid in ids]
    before = _layer_values(image, start, wanted[0].shape)
    labels = [int(segmentation.GetSegment(sid).GetLabelValue()) for sid in ids]
    if max(labels) > np.iinfo(before.dtype).max:
        raise InPlaceWriteError(f"label value {max(labels)} does not fit {before.dtype}")
    after = before.copy()
    for label, mask in zip(labels, wanted, strict=True):
        after[(after == label) & ~mask] = 0
    for sid, label, mask in zip(ids, labels, wanted, strict=True):
        if np.any(mask & (after != 0) & (after != label)):
            raise InPlaceWriteError(
                f"segment '{sid}' would overlap another segment of its shared layer"
            )
        after[mask] = label
    return _LayerEdit(image, start, before, after, ids, labels)


def _store_edit(edit: _LayerEdit, segmentation: Any, ijk_to_ras: np.ndarray) -> None:
    """Write a planned layer edit into its labelmap, growing the labelmap first if needed."""
    stop = tuple(s + n for s, n in zip(edit.start, edit.after.shape, strict=True))
    low, high = _changed_box(edit.before != edit.after)
    needed_start = tuple(a + b for a, b in zip(edit.start, low, strict=True))
    needed_stop = tuple(a + b for a, b in zip(edit.start, high, strict=True))
    if _is_empty(edit.image) or not _contains(edit.image, needed_start, needed_stop):
        reference = _reference_box(segmentation, ijk_to_ras)
        _grow(edit.image, needed_start, needed_stop, reference, ijk_to_ras)
    common = _overlap(edit.start, stop, *_extent_box(edit.image))
    assert common is not None  # the grown extent holds every changed voxel
    _labelmap_view(edit.image)[common[1]] = edit.after[common[0]]


def _changed_box(changed: np.ndarray) -> tuple[Index3, Index3]:
    """(start, stop) (k, j, i) of the True voxels of a non-empty box-sized array."""
    bounds = []
    for axis in range(3):
        hits = np.flatnonzero(changed.any(axis=tuple(a for a in range(3) if a != axis)))
        bounds.append((int(hits[0]), int(hits[-1]) + 1))
    return (bounds[0][0], bounds[1][0], bounds[2][0]), (bounds[0][1], bounds[1][1], bounds[2][1])


def _contains(image: Any, start: Sequence[int], stop: Sequence[int]) -> bool:
    low, high = _extent_box(image)
    return all(a >= lo and b <= hi for a, b, lo, hi in zip(start, stop, low, high, strict=True))


def _grow(
    image: Any,
    start: Sequence[int],
    stop: Sequence[int],
    reference: tuple[Index3, Index3] | None,
    ijk_to_ras: np.ndarray,
) -> None:
    """Reallocate a layer to cover its old extent and the box [start, stop), with margins.

    The ``vtkOrientedImageData`` object stays the same, so segments sharing the layer keep
    sharing it.
    """
    low, high = _grown_extent(image, start, stop, reference)
    old = image.GetPointData().GetScalars()
    array = vtk.vtkDataArray.CreateDataArray(
        vtk.VTK_UNSIGNED_CHAR if old is None else old.GetDataType()
    )
    array.SetName(old.GetName() if old is not None and old.GetName() else "ImageScalars")
    array.SetNumberOfComponents(1)
    array.SetNumberOfTuples(int(np.prod(high - low)))
    values = numpy_support.vtk_to_numpy(array).reshape(tuple(int(n) for n in high - low))
    values.fill(0)
    if not _is_empty(image):
        old_start, old_stop = _extent_box(image)
        common = _overlap(low, high, old_start, old_stop)
        assert common is not None  # the new extent contains the old one
        values[common[0]] = _labelmap_view(image)
    else:
        image.SetImageToWorldMatrix(numpy_to_matrix(ijk_to_ras))
    image.SetExtent(
        int(low[2]), int(high[2]) - 1, int(low[1]), int(high[1]) - 1, int(low[0]), int(high[0]) - 1
    )
    image.GetPointData().SetScalars(array)
    logger.debug("labelmap grown to (k, j, i) %s..%s", tuple(low), tuple(high))


def _grown_extent(
    image: Any, start: Sequence[int], stop: Sequence[int], reference: tuple[Index3, Index3] | None
) -> tuple[np.ndarray, np.ndarray]:
    """New (start, stop) (k, j, i) of a layer that must hold the box [start, stop).

    Each side that has to move goes past the box by half the layer's length along that
    axis (at least ``GROWTH_MIN_VOXELS``), so lengths grow geometrically and a layer
    reallocates a handful of times per session. Margins stay inside the reference geometry.
    """
    needed_low, needed_high = np.asarray(start), np.asarray(stop)
    if _is_empty(image):
        low, high = needed_low, needed_high
        grows_low = grows_high = np.ones(3, dtype=bool)
    else:
        old_low, old_high = (np.asarray(b) for b in _extent_box(image))
        grows_low, grows_high = needed_low < old_low, needed_high > old_high
        low, high = np.minimum(old_low, needed_low), np.maximum(old_high, needed_high)
    margin = np.maximum((high - low) // 2, GROWTH_MIN_VOXELS)
    padded_low = np.where(grows_low, low - margin, low)
    padded_high = np.where(grows_high, high + margin, high)
    if reference is not None:
        padded_low = np.maximum(padded_low, reference[0])
        padded_high = np.minimum(padded_high, reference[1])
    return np.minimum(padded_low, low), np.maximum(padded_high, high)


def _reference_box(segmentation: Any, ijk_to_ras: np.ndarray) -> tuple[Index3, Index3] | None:
    """The segmentation's reference geometry as a (k, j, i) box, if it lies on our grid."""
    name = slicer.vtkSegmentationConverter.GetReferenceImageGeometryParameterName()
    text = segmentation.GetConversionParameter(name)
    geometry = slicer.vtkOrientedImageData()
    if not text or not slicer.vtkSegmentationConverter.DeserializeImageGeometry(
        text, geometry, False
    ):
        return None
    if geometry.IsEmpty() or not _on_grid(geometry, ijk_to_ras):
        return None
    return _extent_box(geometry)


class _Changes:
    """Layers and segments changed by in-place writes, announced once at the end."""

    def __init__(self) -> None:
        self.images: dict[str, Any] = {}
        self.segment_ids: list[str] = []

    def store(
        self, segmentation_node: Any, edits: list[_LayerEdit], ijk_to_ras: np.ndarray
    ) -> None:
        for edit in edits:
            if np.array_equal(edit.before, edit.after):
                continue
            _store_edit(edit, segmentation_node.GetSegmentation(), ijk_to_ras)
            for sid in edit.changed_segments():
                self.add(edit.image, sid)

    def add(self, image: Any, segment_id: str) -> None:
        """Remember that ``segment_id`` changed in the layer ``image``."""
        self.images[image.GetAddressAsString("vtkObject")] = image
        if segment_id not in self.segment_ids:
            self.segment_ids.append(segment_id)

    def announce(self, segmentation_node: Any) -> None:
        """The events Slicer's own edits end with, so display, undo and widgets update."""
        for image in self.images.values():
            image.Modified()
        segmentation = segmentation_node.GetSegmentation()
        for sid in self.segment_ids:
            segmentation.InvokeEvent(slicer.vtkSegmentation.RepresentationModified, sid)
            segment = segmentation.GetSegment(sid)
            if segment is not None:
                segment.Modified()


def write_segment_box(
    editor_logic: Any,
    segmentation_node: Any,
    segment_id: str,
    start: Sequence[int],
    mask: np.ndarray,
    ijk_to_ras: np.ndarray,
) -> None:
    """Make the segment equal ``mask`` inside the box, leaving everything else alone.

    Masking is bypassed (this restores a known state, it is not an edit), so other segments
    and voxels outside the box never change.

    Parameters
    ----------
    editor_logic : vtkSlicerSegmentEditorLogic
        Used only when the write cannot be done in place.
    segmentation_node : vtkMRMLSegmentationNode
    segment_id : str
    start : sequence of int
        (k, j, i) index of the box's first voxel in the source volume.
    mask : ndarray of bool, shape (k, j, i)
        The segment's voxels over the box.
    ijk_to_ras : ndarray, shape (4, 4)
        The source volume's IJKToRAS (mm).
    """
    write_segments_boxes(editor_logic, segmentation_node, [(start, {segment_id: mask})], ijk_to_ras)


def write_segments_box(
    editor_logic: Any,
    segmentation_node: Any,
    start: Sequence[int],
    masks: Mapping[str, np.ndarray],
    ijk_to_ras: np.ndarray,
) -> None:
    """``write_segment_box`` for several segments sharing one box."""
    write_segments_boxes(editor_logic, segmentation_node, [(start, masks)], ijk_to_ras)


def write_segments_boxes(
    editor_logic: Any,
    segmentation_node: Any,
    boxes: Iterable[BoxMasks],
    ijk_to_ras: np.ndarray,
) -> None:
    """Several ``write_segments_box`` writes with the modified events sent once, at the end.

    Each box is written in place when possible (all its segments or none), otherwise
    through Slicer's editor logic with masking bypassed. ``boxes`` is consumed lazily and
    each box is in the segmentation before the next one is taken, so a generator may read
    the scene to compute the next box (the stepping runner's restores do).
    """
    changes = _Changes()
    for start, masks in boxes:
        _write_box(editor_logic, segmentation_node, start, masks, ijk_to_ras, changes)
    changes.announce(segmentation_node)


def _write_box(
    editor_logic: Any,
    segmentation_node: Any,
    start: Sequence[int],
    masks: Mapping[str, np.ndarray],
    ijk_to_ras: np.ndarray,
    changes: _Changes,
) -> None:
    """One box of ``write_segments_boxes``: in place, else through Slicer's editor logic."""
    try:
        edits = _plan_layers(segmentation_node, start, masks, ijk_to_ras)
    except InPlaceWriteError as reason:
        logger.debug("box at %s written through Slicer: %s", tuple(start), reason)
        _write_with_editor_logic(editor_logic, segmentation_node, start, masks, ijk_to_ras)
        return
    changes.store(segmentation_node, edits, ijk_to_ras)


def flip_segments_boxes(
    editor_logic: Any,
    segmentation_node: Any,
    flips: Iterable[BoxMasks],
    ijk_to_ras: np.ndarray,
) -> None:
    """Toggle voxels: each segment of each box becomes itself XOR its bool (k, j, i) array.

    This is how the stepping runner moves the scene between checkpoints (the store keeps
    XOR diffs). A box is flipped right in the stored labelmaps, one pass per segment, when
    each of its segments has a layer to itself among them, covering the box, and no voxel
    it turns on holds another segment; any other box is read, XOR-ed and written like
    ``write_segments_box``. Boxes are applied in order, each seeing the ones before it, and
    the modified events are sent once, at the end.
    """
    changes = _Changes()
    layers: dict[str, _StoredLayer | None] = {}
    for start, xors in flips:
        flips_in_place = _plan_flips(segmentation_node, start, xors, ijk_to_ras, layers)
        if flips_in_place is not None:
            for flip in flips_in_place:
                flip.apply(changes)
            continue
        shape = next(iter(xors.values())).shape
        stop = [int(a) + int(n) for a, n in zip(start, shape, strict=True)]
        current = read_segments_box(segmentation_node, xors, start, stop, ijk_to_ras)
        targets = {sid: current[sid] ^ np.asarray(xor, dtype=bool) for sid, xor in xors.items()}
        _write_box(editor_logic, segmentation_node, start, targets, ijk_to_ras, changes)
        layers.clear()  # the general write may have grown or separated layers
    changes.announce(segmentation_node)


@dataclass
class _StoredLayer:
    """A segment's stored labelmap as flips need it, looked up once per call."""

    index: int
    image: Any
    label: int
    start: Index3
    stop: Index3
    view: np.ndarray
    alone: bool


def _stored_layer(
    segmentation_node: Any, segment_id: str, ijk_to_ras: np.ndarray
) -> _StoredLayer | None:
    """The segment's layer, or None when it cannot be flipped in place at all."""
    segmentation = segmentation_node.GetSegmentation()
    index = segmentation.GetLayerIndex(segment_id, BINARY_LABELMAP)
    segment = get_segment(segmentation_node, segment_id)
    image = segment.GetRepresentation(BINARY_LABELMAP)
    if index < 0 or _is_empty(image) or not _on_grid(image, ijk_to_ras):
        return None
    start, stop = _extent_box(image)
    alone = len(segmentation.GetSegmentIDsForLayer(index, BINARY_LABELMAP)) == 1
    label = int(segment.GetLabelValue())
    return _StoredLayer(index, image, label, start, stop, _labelmap_view(image), alone)


@dataclass
class _Flip:
    """Voxels of one segment to toggle, as a view of its stored labelmap over the box."""

    layer: _StoredLayer
    segment_id: str
    view: np.ndarray
    xor: np.ndarray

    def apply(self, changes: _Changes) -> None:
        # Every toggled voxel holds 0 or the label (checked when planned): XOR swaps them.
        label = np.asarray(self.layer.label, dtype=self.view.dtype)
        np.bitwise_xor(self.view, label, out=self.view, where=self.xor)
        changes.add(self.layer.image, self.segment_id)


def _plan_flips(
    segmentation_node: Any,
    start: Sequence[int],
    xors: Mapping[str, np.ndarray],
    ijk_to_ras: np.ndarray,
    layers: dict[str, _StoredLayer | None],
) -> list[_Flip] | None:
    """The in-place flips of one box, or None when the box needs the general write.

    ``layers`` caches the segments' stored layers between the boxes of one call.
    """
    if segmentation_node.GetSegmentation().GetSourceRepresentationName() != BINARY_LABELMAP:
        return None
    flips: list[_Flip] = []
    used: set[int] = set()
    for sid, values in xors.items():
        if sid not in layers:
            layers[sid] = _stored_layer(segmentation_node, sid, ijk_to_ras)
        layer = layers[sid]
        xor = np.asarray(values, dtype=bool)
        stop = [int(a) + int(n) for a, n in zip(start, xor.shape, strict=True)]
        if layer is None or layer.index in used:
            return None
        if not all(
            a >= lo and b <= hi
            for a, b, lo, hi in zip(start, stop, layer.start, layer.stop, strict=True)
        ):
            return None
        used.add(layer.index)
        view = layer.view[
            tuple(
                slice(int(a) - o, b - o) for a, b, o in zip(start, stop, layer.start, strict=True)
            )
        ]
        # Another segment sharing the layer may hold a voxel this flip would turn on.
        if not layer.alone and np.any(xor & (view != 0) & (view != layer.label)):
            return None
        flips.append(_Flip(layer, sid, view, xor))
    return flips


def _write_with_editor_logic(
    editor_logic: Any,
    segmentation_node: Any,
    start: Sequence[int],
    masks: Mapping[str, np.ndarray],
    ijk_to_ras: np.ndarray,
) -> None:
    """Exact box writes through Slicer: Add for on-voxels, Remove for off-voxels.

    Slicer applies the editable intensity range even when masking is bypassed, so it is
    switched off for the write; a restore must not depend on the user's masking settings.
    """
    editor_node = editor_logic.GetSegmentEditorNode()
    intensity_mask = bool(editor_node is not None and editor_node.GetSourceVolumeIntensityMask())
    if intensity_mask:
        editor_node.SetSourceVolumeIntensityMask(False)
    try:
        for sid, mask in masks.items():
            get_segment(segmentation_node, sid)
            values = np.asarray(mask, dtype=bool)
            modes = (
                (values, editor_logic.ModificationModeAdd),
                (~values, editor_logic.ModificationModeRemove),
            )
            for voxels, mode in modes:
                if voxels.any():
                    image = oriented_image(voxels, start, ijk_to_ras)
                    editor_logic.ModifySegmentByLabelmap(
                        segmentation_node, sid, image, mode, True, True
                    )
    finally:
        if intensity_mask:
            editor_node.SetSourceVolumeIntensityMask(True)


# Editing as the Segment Editor does ------------------------------------------------------


def modify_segment_box(
    editor_logic: Any,
    segmentation_node: Any,
    segment_id: str,
    start: Sequence[int],
    mask: np.ndarray,
    erase: bool,
    ijk_to_ras: np.ndarray,
    source_voxels: np.ndarray | None = None,
) -> None:
    """Paint (``erase`` False) or erase ``mask`` in a segment the way the Segment Editor does.

    Honours the editor node's masking: editable area, editable intensity range and, when
    painting, "modify other segments" (overwrite all / visible / none). Written in place
    when possible, otherwise by ``ModifySegmentByLabelmap`` with masking on.

    Parameters
    ----------
    editor_logic : vtkSlicerSegmentEditorLogic
        Bound to the editor node holding the masking settings.
    segmentation_node : vtkMRMLSegmentationNode
    segment_id : str
        The edited segment.
    start : sequence of int
        (k, j, i) index of the box's first voxel in the source volume.
    mask : ndarray of bool, shape (k, j, i)
        Voxels of the box to paint or erase.
    erase : bool
    ijk_to_ras : ndarray, shape (4, 4)
        The source volume's IJKToRAS (mm).
    source_voxels : ndarray, shape (k, j, i) of the volume, optional
        The source volume's voxels (a view is fine; only the box is read), needed for the
        editable intensity range.
    """
    editor_node = editor_logic.GetSegmentEditorNode()
    brush = np.asarray(mask, dtype=bool)
    if not brush.any():
        return
    # Voxels outside the mask's own box never change: every later pass works on less.
    low, high = _changed_box(brush)
    brush = brush[tuple(slice(a, b) for a, b in zip(low, high, strict=True))]
    start = tuple(int(s) + a for s, a in zip(start, low, strict=True))
    try:
        targets = _edit_targets(
            editor_node,
            segmentation_node,
            segment_id,
            start,
            brush,
            erase,
            ijk_to_ras,
            source_voxels,
        )
        edits = _plan_layers(segmentation_node, start, targets, ijk_to_ras)
    except InPlaceWriteError as reason:
        logger.debug("stroke written through Slicer: %s", reason)
        mode = editor_logic.ModificationModeRemove if erase else editor_logic.ModificationModeAdd
        image = oriented_image(brush, start, ijk_to_ras)
        editor_logic.ModifySegmentByLabelmap(
            segmentation_node, segment_id, image, mode, True, False
        )
        return
    changes = _Changes()
    changes.store(segmentation_node, edits, ijk_to_ras)
    _mark_in_progress(get_segment(segmentation_node, segment_id))
    changes.announce(segmentation_node)


def _edit_targets(
    editor_node: Any,
    segmentation_node: Any,
    segment_id: str,
    start: Sequence[int],
    brush: np.ndarray,
    erase: bool,
    ijk_to_ras: np.ndarray,
    source_voxels: np.ndarray | None,
) -> dict[str, np.ndarray]:
    """What the edited segment and the segments it overwrites become over the box."""
    stop = [int(a) + int(n) for a, n in zip(start, brush.shape, strict=True)]
    current = read_segment_box(segmentation_node, segment_id, start, stop, ijk_to_ras)
    editable = _editable_area(
        editor_node,
        segmentation_node,
        segment_id,
        start,
        current,
        erase,
        ijk_to_ras,
        source_voxels,
    )
    if editable is not None:
        brush = brush & editable
    if erase:
        return {segment_id: current & ~brush}
    targets = {segment_id: current | brush}
    for other in _overwritten_segments(editor_node, segmentation_node, segment_id):
        voxels = read_segment_box(segmentation_node, other, start, stop, ijk_to_ras)
        if np.any(voxels & brush):
            targets[other] = voxels & ~brush
    return targets


def _editable_area(
    editor_node: Any,
    segmentation_node: Any,
    segment_id: str,
    start: Sequence[int],
    current: np.ndarray,
    erase: bool,
    ijk_to_ras: np.ndarray,
    source_voxels: np.ndarray | None,
) -> np.ndarray | None:
    """Bool (k, j, i) editable voxels of the box, or None when everything is editable."""
    editable = None
    mode = editor_node.GetMaskMode()
    if mode != slicer.vtkMRMLSegmentationNode.EditAllowedEverywhere:
        single = mode == slicer.vtkMRMLSegmentationNode.EditAllowedInsideSingleSegment
        mask_segment = editor_node.GetMaskSegmentID() or ""
        if erase and single and mask_segment and mask_segment != segment_id:
            raise InPlaceWriteError("erasing inside one segment gives the voxels back to it")
        editable = _slicer_editable_area(
            segmentation_node, mode, segment_id, mask_segment, start, current.shape, ijk_to_ras
        )
        if erase and single:
            # Slicer lets the eraser reach the edited segment's own voxels in this mode.
            editable |= current
    if editor_node.GetSourceVolumeIntensityMask():
        if source_voxels is None:
            raise InPlaceWriteError("the editable intensity range needs the source voxels")
        low, high = editor_node.GetSourceVolumeIntensityMaskRange()
        box = tuple(
            slice(int(a), int(a) + int(n)) for a, n in zip(start, current.shape, strict=True)
        )
        values = source_voxels[box]
        in_range = (values >= low) & (values <= high)
        editable = in_range if editable is None else editable & in_range
    return editable


def _slicer_editable_area(
    segmentation_node: Any,
    mode: int,
    segment_id: str,
    mask_segment: str,
    start: Sequence[int],
    shape: Sequence[int],
    ijk_to_ras: np.ndarray,
) -> np.ndarray:
    """Slicer's own editable-area rule (``GenerateEditMask``), evaluated on the box only."""
    reference = slicer.vtkOrientedImageData()
    k0, j0, i0 = (int(v) for v in start)
    nk, nj, ni = (int(v) for v in shape)
    reference.SetExtent(i0, i0 + ni - 1, j0, j0 + nj - 1, k0, k0 + nk - 1)
    reference.SetImageToWorldMatrix(numpy_to_matrix(ijk_to_ras))
    blocked = slicer.vtkOrientedImageData()
    if not segmentation_node.GenerateEditMask(blocked, mode, reference, segment_id, mask_segment):
        raise InPlaceWriteError("Slicer could not compute the editable area")
    if _is_empty(blocked) or blocked.GetExtent() != reference.GetExtent():
        raise InPlaceWriteError("Slicer's editable area does not cover the box")
    return np.asarray(_labelmap_view(blocked) == 0)


def _overwritten_segments(editor_node: Any, segmentation_node: Any, segment_id: str) -> list[str]:
    """Segments that lose the voxels painted into ``segment_id`` ("modify other segments")."""
    others = [sid for sid in segment_ids(segmentation_node) if sid != segment_id]
    mode = editor_node.GetOverwriteMode()
    if mode == slicer.vtkMRMLSegmentEditorNode.OverwriteNone:
        return []
    if mode == slicer.vtkMRMLSegmentEditorNode.OverwriteVisibleSegments:
        display = segmentation_node.GetDisplayNode()
        if display is None:
            return []
        return [sid for sid in others if display.GetSegmentVisibility(sid)]
    return others


def _mark_in_progress(segment: Any) -> None:
    """Segment status "in progress" after the first edit, as Slicer's editor sets it."""
    logic = slicer.vtkSlicerSegmentationsModuleLogic
    if logic.GetSegmentStatus(segment) == logic.NotStarted:
        logic.SetSegmentStatus(segment, logic.InProgress)


# Creating -------------------------------------------------------------------------------


# Fixed colours (RGB 0..1) for the segments we create, so two identical runs write
# identical files (Slicer otherwise picks a random colour).
SEGMENT_COLORS = (
    (0.95, 0.85, 0.2),
    (0.3, 0.75, 0.95),
    (0.95, 0.45, 0.3),
    (0.55, 0.85, 0.4),
    (0.8, 0.5, 0.9),
    (0.95, 0.65, 0.8),
)


def add_segment(segmentation_node: Any, name: str) -> str:
    """Add an empty segment named ``name`` with a fixed colour; returns its id."""
    segmentation = segmentation_node.GetSegmentation()
    segment_id = segmentation.GenerateUniqueSegmentID(name.replace(" ", "_") or "Segment")
    color = SEGMENT_COLORS[segmentation.GetNumberOfSegments() % len(SEGMENT_COLORS)]
    segmentation.AddEmptySegment(segment_id, name, color)
    segment = segmentation.GetSegment(segment_id)
    segment.SetNameAutoGenerated(False)
    segment.SetColorAutoGenerated(False)
    return str(segment_id)


def find_segment_by_name(segmentation_node: Any, name: str) -> str | None:
    """Id of the first segment called ``name`` (exact match), or None."""
    segmentation = segmentation_node.GetSegmentation()
    segment = segmentation.GetSegmentIdBySegmentName(name)
    return str(segment) if segment else None


def new_segmentation_node(scene: Any, volume_node: Any, name: str) -> Any:
    """A segmentation node with display nodes, its geometry taken from ``volume_node``."""
    node = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", name)
    node.CreateDefaultDisplayNodes()
    node.SetReferenceImageGeometryParameterFromVolumeNode(volume_node)
    return node
