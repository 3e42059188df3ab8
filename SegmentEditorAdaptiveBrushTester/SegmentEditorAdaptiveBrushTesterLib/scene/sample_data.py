"""Loading the volume and reference segmentation a recipe names, on real MRML nodes.

``"default"`` is the chest CT (128x128x34, about 3 x 3 x 10 mm) that the ``slicerio``
package ships, with its ``Segmentation.seg.nrrd`` as the reference. A file path loads that
file. Slicer SampleData names need desktop Slicer (the SampleData module downloads them).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
from SegmentEditorAdaptiveBrushLib.scene.context import SlicerContext, is_desktop_slicer
from SegmentEditorAdaptiveBrushLib.scene.errors import SceneError
from SegmentEditorAdaptiveBrushLib.scene.segments import read_segment_full
from SegmentEditorAdaptiveBrushLib.scene.volume import (
    GEOMETRY_TOLERANCE_MM,
    ijk_to_ras,
    volume_array,
)

logger = logging.getLogger(__name__)

DEFAULT_SAMPLE = "default"
DEFAULT_VOLUME_FILE = "CTChest4.nrrd"
DEFAULT_REFERENCE_FILE = "Segmentation.seg.nrrd"


class SampleDataError(SceneError):
    """The recipe's sample data or reference cannot be found or read."""


def embedded_data_dir() -> Path:
    """Folder of the data files the ``slicerio`` package ships."""
    import slicerio

    return Path(slicerio.__file__).resolve().parent / "data"


def embedded_volume_path() -> Path:
    return embedded_data_dir() / DEFAULT_VOLUME_FILE


def embedded_reference_path() -> Path:
    return embedded_data_dir() / DEFAULT_REFERENCE_FILE


def load_volume(context: SlicerContext, sample_data: str, name: str | None = None) -> Any:
    """Load the volume a recipe names and return its vtkMRMLScalarVolumeNode.

    Raises
    ------
    SampleDataError
        Unknown name, missing or unreadable file; nothing is left in the scene.
    """
    if sample_data in ("", DEFAULT_SAMPLE):
        return read_volume_file(context, embedded_volume_path(), name or "CTChest")
    if looks_like_path(sample_data):
        return read_volume_file(context, Path(sample_data).expanduser(), name)
    return _download_sample(sample_data)


def looks_like_path(text: str) -> bool:
    """A file path rather than a SampleData name: the rule docs/recipes.md states (a ``/``,
    a backslash or a ``.`` in it, or a leading ``~``); SampleData names have none."""
    return any(mark in text for mark in ("/", "\\", ".")) or text.startswith("~")


def read_volume_file(
    context: SlicerContext, path: Path, name: str | None = None, role: str = "source volume"
) -> Any:
    """Read a volume file (NRRD, NIfTI, MetaImage...) into a new scalar volume node;
    ``role`` names what the file is for in error messages."""
    if not path.is_file():
        raise SampleDataError(f"sample data file not found: {path}")
    scene = context.scene
    volume = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", name or _stem(path))
    storage = scene.AddNewNodeByClass("vtkMRMLVolumeArchetypeStorageNode")
    storage.SetFileName(str(path))
    problem = _read_problem(storage, volume)
    if problem is not None:
        scene.RemoveNode(storage)
        scene.RemoveNode(volume)
        raise SampleDataError(f"cannot use {path} as the {role}: {problem}")
    volume.SetAndObserveStorageNodeID(storage.GetID())
    volume.CreateDefaultDisplayNodes()
    logger.info("Loaded %s: %s voxels", path.name, volume.GetImageData().GetDimensions())
    return volume


def _read_problem(storage: Any, volume: Any) -> str | None:
    """Why a file cannot be the brush's source volume, or None when it can."""
    if not storage.ReadData(volume) or volume.GetImageData() is None:
        return (
            "it is not an image file Slicer can read as a 3D scalar volume (vector, RGB "
            "and 4D images are not supported)"
        )
    image = volume.GetImageData()
    if image.GetNumberOfScalarComponents() != 1:
        return (
            f"it has {image.GetNumberOfScalarComponents()} components per voxel; the brush "
            "needs a scalar (one-component) volume"
        )
    if image.GetNumberOfPoints() == 0:
        return "it has no voxels"
    return None


def _download_sample(name: str) -> Any:
    if not is_desktop_slicer():
        raise SampleDataError(
            f"sample data '{name}' is neither 'default' nor an existing file; Slicer "
            "SampleData names can only be downloaded in desktop Slicer"
        )
    import SampleData  # desktop Slicer only

    volume = SampleData.downloadSample(name)
    if volume is None:
        raise SampleDataError(f"Slicer SampleData has no sample named '{name}'")
    return volume


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".seg.nrrd", ".nii.gz", ".nrrd", ".nii", ".mha", ".mhd"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def load_reference_array(
    context: SlicerContext, source: str, segment_name: str, volume_node: Any
) -> np.ndarray:
    """The reference segment as a bool (k, j, i) array on the volume's grid.

    ``source`` is ``"default"`` (the embedded reference), a ``.seg.nrrd`` file (the segment
    is found by name) or a label image on the volume's grid (non-zero voxels).
    """
    path = embedded_reference_path() if source in ("", DEFAULT_SAMPLE) else Path(source)
    if not path.is_file():
        raise SampleDataError(f"reference segmentation file not found: {path}")
    if path.name.endswith(".seg.nrrd"):
        return _read_reference_segment(context, path, segment_name, volume_node)
    return _read_label_image(context, path, volume_node)


def _read_reference_segment(
    context: SlicerContext, path: Path, segment_name: str, volume_node: Any
) -> np.ndarray:
    scene = context.scene
    node = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "reference")
    storage = scene.AddNewNodeByClass("vtkMRMLSegmentationStorageNode")
    try:
        storage.SetFileName(str(path))
        if not storage.ReadData(node):
            raise SampleDataError(f"cannot read a segmentation from {path}")
        segment_id = node.GetSegmentation().GetSegmentIdBySegmentName(segment_name)
        if not segment_id:
            names = [
                node.GetSegmentation().GetNthSegment(n).GetName()
                for n in range(node.GetSegmentation().GetNumberOfSegments())
            ]
            raise SampleDataError(
                f"reference {path.name} has no segment named '{segment_name}' "
                f"(it has: {', '.join(names)})"
            )
        shape = volume_array(volume_node).shape
        return read_segment_full(node, segment_id, shape, ijk_to_ras(volume_node))
    finally:
        _remove_with_helpers(scene, node)
        scene.RemoveNode(storage)


def _read_label_image(context: SlicerContext, path: Path, volume_node: Any) -> np.ndarray:
    label = read_volume_file(context, path, "reference label", role="reference segmentation")
    try:
        difference = np.abs(ijk_to_ras(label) - ijk_to_ras(volume_node)).max()
        if volume_array(label).shape != volume_array(volume_node).shape or (
            difference > GEOMETRY_TOLERANCE_MM
        ):
            raise SampleDataError(f"reference {path.name} is not on the volume's voxel grid")
        return np.asarray(volume_array(label) != 0)
    finally:
        _remove_with_helpers(context.scene, label)


def with_helper_nodes(node: Any) -> list[Any]:
    """The node with its display and storage nodes, so removing them leaves nothing."""
    helpers = [node.GetNthDisplayNode(n) for n in range(node.GetNumberOfDisplayNodes())]
    storage = node.GetStorageNode()
    return [node, *helpers, *([storage] if storage is not None else [])]


def _remove_with_helpers(scene: Any, node: Any) -> None:
    """Remove a node with every display and storage node it created."""
    for helper in reversed(with_helper_nodes(node)):
        if helper is not None:
            scene.RemoveNode(helper)


__all__ = ["SampleDataError", "load_reference_array", "load_volume"]
