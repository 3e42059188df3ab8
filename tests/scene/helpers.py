"""Scene set-up shared by the scene tests: chest CT, segmentation and editor on real MRML."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from SegmentEditorAdaptiveBrushLib.scene.effect_logic import AdaptiveBrushLogic
from SegmentEditorAdaptiveBrushLib.scene.segments import add_segment, new_segmentation_node
from SegmentEditorAdaptiveBrushTesterLib.scene.sample_data import load_volume


@dataclass
class EditScene:
    volume: Any
    segmentation: Any
    editor: Any
    logic: AdaptiveBrushLogic
    segment_id: str

    def remove(self, scene: Any) -> None:
        for node in (self.editor, self.segmentation, self.volume):
            for helper in _helpers(node):
                scene.RemoveNode(helper)


def _helpers(node: Any) -> list[Any]:
    found = [node]
    if hasattr(node, "GetNumberOfDisplayNodes"):
        found += [node.GetNthDisplayNode(n) for n in range(node.GetNumberOfDisplayNodes())]
    if hasattr(node, "GetStorageNode") and node.GetStorageNode() is not None:
        found.append(node.GetStorageNode())
    return [n for n in found if n is not None]


def make_edit_scene(context: Any, segment_names: tuple[str, ...] = ("lung",)) -> EditScene:
    """Chest CT + segmentation with ``segment_names``; the first segment is selected."""
    volume = load_volume(context, "default")
    segmentation = new_segmentation_node(context.scene, volume, "test segmentation")
    ids = [add_segment(segmentation, name) for name in segment_names]
    editor = context.scene.AddNewNodeByClass("vtkMRMLSegmentEditorNode")
    editor.SetAndObserveSegmentationNode(segmentation)
    editor.SetAndObserveSourceVolumeNode(volume)
    editor.SetSelectedSegmentID(ids[0])
    return EditScene(volume, segmentation, editor, AdaptiveBrushLogic(editor, context), ids[0])
