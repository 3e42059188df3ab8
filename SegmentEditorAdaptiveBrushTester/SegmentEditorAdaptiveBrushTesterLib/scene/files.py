"""Writing results to files with Slicer's own storage nodes (works headless)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from SegmentEditorAdaptiveBrushLib.scene.context import SlicerContext
from SegmentEditorAdaptiveBrushLib.scene.errors import SceneError


def save_segmentation(context: SlicerContext, segmentation_node: Any, path: Path) -> Path:
    """Write ``segmentation_node`` as a ``.seg.nrrd`` that Slicer and slicerio can load."""
    if not path.name.endswith(".seg.nrrd"):
        raise SceneError(f"segmentation files must end in .seg.nrrd, got {path.name}")
    path.parent.mkdir(parents=True, exist_ok=True)
    storage = context.scene.AddNewNodeByClass("vtkMRMLSegmentationStorageNode")
    try:
        storage.SetFileName(str(path))
        storage.SetUseCompression(True)
        if not storage.WriteData(segmentation_node):
            raise SceneError(f"could not write the segmentation to {path}")
    finally:
        context.scene.RemoveNode(storage)
    return path
