"""Reading and writing boxes of segments in the source volume's voxel grid.

Reads go straight to the segment's stored binary labelmap (a numpy view, compared with the
segment's label value, so shared layers work). Exact writes go through Slicer's
``vtkSlicerSegmentEditorLogic`` with masking bypassed, so layers, extents, display and
modified events stay Slicer's business.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from vtk.util import numpy_support

from .errors import SceneError
from .volume import check_same_grid, oriented_image

BINARY_LABELMAP = "Binary labelmap"
Box = tuple[tuple[int, int, int], tuple[int, int, int]]


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


def read_segment_box(
    segmentation_node: Any,
    segment_id: str,
    start: Sequence[int],
    stop: Sequence[int],
    ijk_to_ras: np.ndarray,
) -> np.ndarray:
    """Bool (k, j, i) array of one segment over the box [start, stop) of the volume grid."""
    shape = tuple(int(b) - int(a) for a, b in zip(start, stop, strict=True))
    result = np.zeros(shape, dtype=bool)
    segment = get_segment(segmentation_node, segment_id)
    image = segment.GetRepresentation(BINARY_LABELMAP)
    if image is None or image.IsEmpty() or image.GetPointData().GetScalars() is None:
        return result
    check_same_grid(image, ijk_to_ras, f"segment '{segment.GetName()}'")
    extent = image.GetExtent()
    low = np.maximum(np.asarray(start), (extent[4], extent[2], extent[0]))
    high = np.minimum(np.asarray(stop), (extent[5] + 1, extent[3] + 1, extent[1] + 1))
    if np.any(high <= low):
        return result
    stored = _labelmap_view(image)
    source = tuple(
        slice(lo - e, hi - e)
        for lo, hi, e in zip(low, high, (extent[4], extent[2], extent[0]), strict=True)
    )
    target = tuple(slice(lo - s, hi - s) for lo, hi, s in zip(low, high, start, strict=True))
    result[target] = stored[source] == segment.GetLabelValue()
    return result


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


def _labelmap_view(image: Any) -> np.ndarray:
    extent = image.GetExtent()
    scalars = numpy_support.vtk_to_numpy(image.GetPointData().GetScalars())
    return scalars.reshape(
        extent[5] - extent[4] + 1, extent[3] - extent[2] + 1, extent[1] - extent[0] + 1
    )


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
    """
    get_segment(segmentation_node, segment_id)
    mask = np.asarray(mask, dtype=bool)
    modes = ((mask, editor_logic.ModificationModeAdd), (~mask, editor_logic.ModificationModeRemove))
    for voxels, mode in modes:
        if voxels.any():
            image = oriented_image(voxels, start, ijk_to_ras)
            editor_logic.ModifySegmentByLabelmap(
                segmentation_node, segment_id, image, mode, True, True
            )


def write_segments_box(
    editor_logic: Any,
    segmentation_node: Any,
    start: Sequence[int],
    masks: Mapping[str, np.ndarray],
    ijk_to_ras: np.ndarray,
) -> None:
    """``write_segment_box`` for several segments sharing one box."""
    for sid, mask in masks.items():
        write_segment_box(editor_logic, segmentation_node, sid, start, mask, ijk_to_ras)


def add_segment(segmentation_node: Any, name: str) -> str:
    """Add an empty segment named ``name``; returns its id."""
    segmentation = segmentation_node.GetSegmentation()
    segment_id = segmentation.GenerateUniqueSegmentID(name.replace(" ", "_") or "Segment")
    segmentation.AddEmptySegment(segment_id, name)
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
