"""Decisions behind the effect's mouse handling, without Qt or VTK (tested headless).

A drag is collected as RAS points (mm), each painted as it comes, one stroke. Points closer
than the stroke spacing to the previous one are dropped: neighbouring brushes overlap
anyway, and each kept point costs one brush computation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from SegmentEditorAdaptiveBrushLib.core.geometry import AXIS_NORMALS_RAS

Point = tuple[float, float, float]

# Fraction of the brush radius between kept points: brushes still overlap by half a radius.
STROKE_SPACING_FRACTION = 0.5
MIN_STROKE_SPACING_MM = 0.5

# |cos| of the angle between the slice normal and an axis above which the slice counts as
# aligned with that axis (about 0.8 degrees); anything else is an oblique plane.
ALIGNED_COSINE = 0.9999

# Decimals kept of an oblique normal, so recipes stay readable (1e-6 rad is far below a voxel).
NORMAL_DECIMALS = 6


def stroke_spacing_mm(brush_radius_mm: float) -> float:
    """Minimum distance (mm) between the points kept from a drag."""
    return max(STROKE_SPACING_FRACTION * float(brush_radius_mm), MIN_STROKE_SPACING_MM)


def stroke_erases(erase_mode: bool, modifier_pressed: bool) -> bool:
    """Whether a stroke erases: the modifier key (Ctrl) inverts the Add/Erase choice."""
    return bool(erase_mode) != bool(modifier_pressed)


def slice_plane_updates(slice_to_ras: Sequence[Sequence[float]]) -> dict[str, Any]:
    """Parameters that put a 2d brush in the plane of a slice view.

    Parameters
    ----------
    slice_to_ras : 4x4 (or 3x3) nested sequence
        The slice node's SliceToRAS matrix; its third column is the plane normal (RAS).

    Returns
    -------
    dict
        ``slice_orientation`` (axial, coronal, sagittal, or oblique) and ``slice_normal``:
        None for a plane aligned with an axis (the orientation says it all), the unit
        normal (RAS) for an oblique one, so a recipe replays the exact plane.
    """
    matrix = np.asarray(slice_to_ras, dtype=np.float64)
    normal = matrix[:3, 2]
    length = float(np.linalg.norm(normal))
    if not math.isfinite(length) or length < 1e-12:
        raise ValueError("the slice view's SliceToRAS matrix has no plane normal")
    unit = normal / length
    for orientation, axis in AXIS_NORMALS_RAS.items():
        if abs(float(np.dot(unit, axis))) >= ALIGNED_COSINE:
            return {"slice_orientation": orientation, "slice_normal": None}
    rounded = tuple(round(float(v), NORMAL_DECIMALS) for v in unit)
    return {"slice_orientation": "oblique", "slice_normal": rounded}


def mm_per_pixel(xy_to_ras: Sequence[Sequence[float]]) -> float:
    """Size of one screen pixel (mm) in a slice view, from its XYToRAS matrix."""
    matrix = np.asarray(xy_to_ras, dtype=np.float64)
    return float(np.linalg.norm(matrix[:3, 0]))


def radius_in_pixels(brush_radius_mm: float, pixel_mm: float) -> float:
    """Brush radius on screen; 0 when the view's scale is unknown."""
    if pixel_mm <= 0 or not math.isfinite(pixel_mm):
        return 0.0
    return float(brush_radius_mm) / pixel_mm


@dataclass
class StrokePoints:
    """RAS points (mm) of one stroke, thinned to ``spacing_mm``.

    The first point is always kept: it is where the user clicked.
    """

    spacing_mm: float
    points: list[Point] = field(default_factory=list)

    def add(self, ras: Sequence[float]) -> bool:
        """Keep ``ras`` if it is far enough from the last kept point; True when kept."""
        point = (float(ras[0]), float(ras[1]), float(ras[2]))
        if not all(math.isfinite(v) for v in point):
            return False
        if self.points and math.dist(self.points[-1], point) < self.spacing_mm:
            return False
        self.points.append(point)
        return True

    def __len__(self) -> int:
        return len(self.points)
