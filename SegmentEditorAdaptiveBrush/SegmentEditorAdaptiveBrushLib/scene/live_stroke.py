"""A stroke painted while the user drags: each point is applied as it comes, the stroke is
one undo state, can be cancelled, and is handed whole to a stroke router (the stepping
runner records it as one step) when it ends.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from ..core.errors import BrushOutsideVolumeError
from .segments import read_segments_box, segment_ids, write_segments_box
from .volume import ijk_to_ras

if TYPE_CHECKING:
    from .effect_logic import AdaptiveBrushLogic

logger = logging.getLogger(__name__)

Point = tuple[float, float, float]
Index3 = tuple[int, int, int]


@dataclass(frozen=True)
class FinishedStroke:
    """What a stroke did: its points and, over the box it touched, every segment before and
    after it (bool (k, j, i) arrays keyed by segment id)."""

    points: tuple[Point, ...]
    erase: bool
    box_start: Index3
    box_stop: Index3
    before: dict[str, np.ndarray]
    after: dict[str, np.ndarray]


class StrokeRouter(Protocol):
    """Takes over strokes painted by hand in some editor (the stepping runner does)."""

    def takes_stroke(self, logic: AdaptiveBrushLogic) -> bool:
        """True when this router records strokes painted with ``logic`` from now on."""
        ...

    def record_stroke(self, logic: AdaptiveBrushLogic, stroke: FinishedStroke) -> None:
        """Record a stroke that was applied to the scene."""
        ...


_ROUTERS: list[StrokeRouter] = []


def add_stroke_router(router: StrokeRouter) -> None:
    """Offer hand-painted strokes to ``router`` (see ``LiveStroke``)."""
    if router not in _ROUTERS:
        _ROUTERS.append(router)


def remove_stroke_router(router: StrokeRouter) -> None:
    """Stop offering strokes to ``router``; unknown routers are ignored."""
    if router in _ROUTERS:
        _ROUTERS.remove(router)


def router_for(logic: AdaptiveBrushLogic) -> StrokeRouter | None:
    """The first router that takes strokes painted with ``logic``, if any."""
    return next((r for r in list(_ROUTERS) if r.takes_stroke(logic)), None)


class LiveStroke:
    """One stroke, applied point by point.

    Parameters
    ----------
    logic : AdaptiveBrushLogic
    erase : bool
    save_undo_state : callable, optional
        Called once, before the first write, unless a router records the stroke (its
        checkpoints are the undo then).
    route : bool
        Offer the stroke to the stroke routers (False when a router itself replays it).
    """

    def __init__(
        self,
        logic: AdaptiveBrushLogic,
        erase: bool,
        save_undo_state: Callable[[], Any] | None = None,
        route: bool = True,
    ) -> None:
        self.logic, self.erase = logic, erase
        self.router = router_for(logic) if route else None
        self._save_undo_state = None if self.router is not None else save_undo_state
        self._points: list[Point] = []
        # Each point's box before it was written, bit-packed: a long drag with a large
        # brush would otherwise hold a bool array per point.
        self._writes: list[tuple[Index3, Index3, dict[str, bytes]]] = []
        self._open = True

    @property
    def points(self) -> list[Point]:
        return list(self._points)

    def add_point(self, ras: Sequence[float], skip_outside: bool = False) -> bool:
        """Compute the brush at ``ras`` and apply it now; a failure changes nothing.

        With ``skip_outside`` a point whose centre is outside the volume is left out of the
        stroke (as a mouse drag that leaves the image expects) and False is returned.
        """
        self._require_open()
        point = (float(ras[0]), float(ras[1]), float(ras[2]))
        try:
            plan = self.logic.plan_stroke([point], self.erase)
        except BrushOutsideVolumeError:
            if not skip_outside:
                raise
            return False
        segmentation, volume, _ = self.logic.nodes()
        before = read_segments_box(
            segmentation,
            segment_ids(segmentation),
            plan.box_start,
            plan.box_stop,
            ijk_to_ras(volume),
        )
        if not self._writes and self._save_undo_state is not None:
            self._save_undo_state()
        self.logic.apply_plan(plan)
        packed = {sid: np.packbits(mask).tobytes() for sid, mask in before.items()}
        self._writes.append((plan.box_start, plan.box_stop, packed))
        self._points.append(point)
        return True

    def add_points(self, points_ras: Sequence[Sequence[float]]) -> None:
        """Add every point, all or nothing: a failure (or an interrupt) takes the whole
        stroke back and ends it."""
        try:
            for point in points_ras:
                self.add_point(point)
        except BaseException:
            self.cancel()
            raise

    def finish(self) -> FinishedStroke | None:
        """End the stroke and hand it to its router; None when no point was applied."""
        self._require_open()
        self._open = False
        if not self._writes:
            return None
        stroke = self._summary()
        if self.router is not None:
            try:
                self.router.record_stroke(self.logic, stroke)
            except BaseException:
                # Not recorded, so not kept: the scene must match the router's history.
                self._undo_writes()
                raise
        return stroke

    def cancel(self) -> None:
        """Undo every point of the stroke and end it."""
        if not self._open:
            return
        self._open = False
        self._undo_writes()

    def _undo_writes(self) -> None:
        segmentation, volume, _ = self.logic.nodes()
        matrix = ijk_to_ras(volume)
        for start, stop, packed in reversed(self._writes):
            before = _unpack(packed, start, stop)
            write_segments_box(self.logic.editor_logic, segmentation, start, before, matrix)
        self._writes.clear()

    def _summary(self) -> FinishedStroke:
        segmentation, volume, _ = self.logic.nodes()
        low = np.min([w[0] for w in self._writes], axis=0)
        high = np.max([w[1] for w in self._writes], axis=0)
        start: Index3 = (int(low[0]), int(low[1]), int(low[2]))
        stop: Index3 = (int(high[0]), int(high[1]), int(high[2]))
        after = read_segments_box(
            segmentation, segment_ids(segmentation), start, stop, ijk_to_ras(volume)
        )
        before = {sid: mask.copy() for sid, mask in after.items()}
        # Each write's own "before" is exact in its box; the earliest write wins.
        for box_start, box_stop, box_before in reversed(self._writes):
            region = tuple(
                slice(a - s, b - s) for a, b, s in zip(box_start, box_stop, start, strict=True)
            )
            for sid, mask in _unpack(box_before, box_start, box_stop).items():
                before[sid][region] = mask
        return FinishedStroke(tuple(self._points), self.erase, start, stop, before, after)

    def _require_open(self) -> None:
        if not self._open:
            raise RuntimeError("this stroke has ended; begin a new one")


def _unpack(packed: dict[str, bytes], start: Index3, stop: Index3) -> dict[str, np.ndarray]:
    shape = tuple(b - a for a, b in zip(start, stop, strict=True))
    count = int(np.prod(shape))
    return {
        sid: np.unpackbits(np.frombuffer(data, dtype=np.uint8), count=count)
        .astype(bool)
        .reshape(shape)
        for sid, data in packed.items()
    }
