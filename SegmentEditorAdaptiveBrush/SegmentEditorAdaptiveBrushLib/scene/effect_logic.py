"""The effect without Qt: parameters, strokes, masking. Used by the GUI effect, the stepping
runner and scripts alike, in desktop Slicer and headless.

Parameters live in the Segment Editor node as attributes ``AdaptiveBrush.<name>`` (JSON
values), the same place Slicer keeps every effect's parameters, so they are saved with the
scene and restored with it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import slicer

from ..core.brush import BrushResult, compute_brush
from ..core.params import PARAMETERS, BrushParameters
from .context import SlicerContext, slicer_context
from .errors import SceneError
from .live_stroke import LiveStroke, router_for
from .segments import modify_segment_box
from .volume import ijk_to_ras, volume_array

logger = logging.getLogger(__name__)

EFFECT_NAME = "Adaptive Brush"
ATTRIBUTE_PREFIX = "AdaptiveBrush."


@dataclass(frozen=True)
class StrokePlan:
    """Brush results for every point of a stroke, computed before anything is written.

    ``box_start`` / ``box_stop`` (k, j, i; stop exclusive) bound every voxel the stroke may
    change, in this segment or, with "overwrite other segments", in others.
    """

    results: tuple[BrushResult, ...]
    erase: bool
    box_start: tuple[int, int, int]
    box_stop: tuple[int, int, int]
    seconds: float


def new_editor_logic(context: SlicerContext, editor_node: Any) -> Any:
    """A vtkSlicerSegmentEditorLogic bound to ``editor_node`` (masking settings live there)."""
    logic = slicer.vtkSlicerSegmentEditorLogic()
    logic.SetMRMLApplicationLogic(context.app_logic)
    logic.SetMRMLScene(context.scene)
    logic.SetSegmentEditorNode(editor_node)
    return logic


class AdaptiveBrushLogic:
    """Adaptive brush strokes on the segment selected in a Segment Editor node.

    Parameters
    ----------
    editor_node : vtkMRMLSegmentEditorNode
        Holds the segmentation, source volume, selected segment and masking settings.
    context : SlicerContext, optional
        Defaults to the desktop application's or the headless one.
    """

    def __init__(self, editor_node: Any, context: SlicerContext | None = None) -> None:
        self.context = context or slicer_context()
        self.editor_node = editor_node
        self.editor_logic = new_editor_logic(self.context, editor_node)
        self._cached_parameters: BrushParameters | None = None
        self._cached_mtime = -1

    # Parameters -------------------------------------------------------------------------

    @property
    def parameters(self) -> BrushParameters:
        """The complete parameter set stored in the editor node (defaults where unset).

        Parsed again only when the editor node changed since the last read (any attribute
        change bumps its modification time), so reading it per stroke costs nothing.
        """
        mtime = self.editor_node.GetMTime()
        if self._cached_parameters is None or self._cached_mtime != mtime:
            self._cached_parameters = self._read_parameters()
            self._cached_mtime = mtime
        return self._cached_parameters

    def _read_parameters(self) -> BrushParameters:
        stored = {}
        for name in PARAMETERS:
            text = self.editor_node.GetAttribute(ATTRIBUTE_PREFIX + name)
            if text is not None:
                stored[name] = json.loads(text)
        return BrushParameters(stored)

    def set_parameters(self, updates: Mapping[str, Any]) -> BrushParameters:
        """Validate ``updates`` (a preset expands first) and store them; all or nothing."""
        new = self.parameters.with_updates(updates)
        self._store(new)
        return new

    def restore_parameters(self, values: Mapping[str, Any]) -> BrushParameters:
        """Replace the whole parameter set (unset names fall back to defaults)."""
        new = BrushParameters(values)
        self._store(new)
        return new

    def _store(self, params: BrushParameters) -> None:
        was_disabled = self.editor_node.StartModify()
        try:
            for name, value in params.items():
                encoded = json.dumps(list(value) if isinstance(value, tuple) else value)
                self.editor_node.SetAttribute(ATTRIBUTE_PREFIX + name, encoded)
        finally:
            self.editor_node.EndModify(was_disabled)
        # What Slicer's own effects fire on a parameter change, so effect panels refresh.
        self.editor_node.InvokeCustomModifiedEvent(
            slicer.vtkMRMLSegmentEditorNode.EffectParameterModified
        )

    # Nodes ------------------------------------------------------------------------------

    def nodes(self) -> tuple[Any, Any, str]:
        """(segmentation node, source volume node, selected segment id) or SceneError."""
        segmentation = self.editor_node.GetSegmentationNode()
        volume = self.editor_node.GetSourceVolumeNode()
        segment_id = self.editor_node.GetSelectedSegmentID()
        if segmentation is None or volume is None:
            raise SceneError("select a segmentation and a source volume first")
        if not segment_id or segmentation.GetSegmentation().GetSegment(segment_id) is None:
            raise SceneError("select a segment to paint into first")
        return segmentation, volume, str(segment_id)

    # Strokes ----------------------------------------------------------------------------

    def plan_stroke(self, points_ras: Sequence[Sequence[float]], erase: bool = False) -> StrokePlan:
        """Compute the brush at every point; writes nothing, so a failure changes nothing."""
        if len(points_ras) == 0:
            raise ValueError("a stroke needs at least one point")
        started = time.perf_counter()
        _, volume, _ = self.nodes()
        matrix, voxels, params = ijk_to_ras(volume), volume_array(volume), self.parameters
        results = tuple(compute_brush(voxels, matrix, point, params) for point in points_ras)
        starts = np.array([r.region.start for r in results])
        stops = np.array([np.add(r.region.start, r.region.shape) for r in results])
        return StrokePlan(
            results=results,
            erase=erase,
            box_start=tuple(int(v) for v in starts.min(axis=0)),  # type: ignore[arg-type]
            box_stop=tuple(int(v) for v in stops.max(axis=0)),  # type: ignore[arg-type]
            seconds=time.perf_counter() - started,
        )

    def apply_plan(self, plan: StrokePlan) -> None:
        """Write a planned stroke into the selected segment, honouring the editor's masking.

        Each point's result is written into the segment's stored labelmap in place where
        possible (see ``segments.modify_segment_box``); only the brush box is touched.
        """
        started = time.perf_counter()
        segmentation, volume, segment_id = self.nodes()
        matrix, voxels = ijk_to_ras(volume), volume_array(volume)
        for result in plan.results:
            if result.mask.any():
                modify_segment_box(
                    self.editor_logic,
                    segmentation,
                    segment_id,
                    result.region.start,
                    result.mask,
                    plan.erase,
                    matrix,
                    voxels,
                )
        logger.debug("stroke written in %.1f ms", (time.perf_counter() - started) * 1000)

    def stroke(
        self,
        points_ras: Sequence[Sequence[float]],
        erase: bool = False,
        save_undo_state: Callable[[], Any] | None = None,
    ) -> StrokePlan | None:
        """Plan and apply one stroke; ``save_undo_state`` is called once, before writing.

        When a stroke router takes strokes in this editor (a set-up stepping runner), the
        stroke goes through it like a hand stroke, so it is recorded, and None is returned.
        """
        if router_for(self) is not None:
            self.user_stroke(points_ras, erase, save_undo_state)
            return None
        plan = self.plan_stroke(points_ras, erase)
        if save_undo_state is not None:
            save_undo_state()
        self.apply_plan(plan)
        logger.debug("stroke of %d points in %.1f ms", len(points_ras), plan.seconds * 1000)
        return plan

    def begin_stroke(
        self, erase: bool = False, save_undo_state: Callable[[], Any] | None = None
    ) -> LiveStroke:
        """Start a stroke painted by hand: add points as the mouse moves, then finish()."""
        return LiveStroke(self, erase, save_undo_state)

    def user_stroke(
        self,
        points_ras: Sequence[Sequence[float]],
        erase: bool = False,
        save_undo_state: Callable[[], Any] | None = None,
    ) -> None:
        """A whole stroke painted by hand: applied point by point, recorded by a stroke
        router (the stepping runner) when one takes it; all or nothing."""
        stroke = self.begin_stroke(erase, save_undo_state)
        stroke.add_points(points_ras)
        stroke.finish()
