"""Registry of brush algorithms: name -> Algorithm.

Every algorithm is a pure function ``BrushInput -> bool (k, j, i) mask``.
"""

from __future__ import annotations

from . import (
    confidence_connected,
    connected_threshold,
    geodesic_distance,
    level_set,
    random_walker,
    region_growing,
    threshold_brush,
    watershed,
)
from .base import Algorithm, BrushInput, IntensityStats

ALGORITHMS: dict[str, Algorithm] = {
    module.ALGORITHM.name: module.ALGORITHM
    for module in (
        geodesic_distance,
        watershed,
        random_walker,
        region_growing,
        level_set,
        connected_threshold,
        confidence_connected,
        threshold_brush,
    )
}

__all__ = ["ALGORITHMS", "Algorithm", "BrushInput", "IntensityStats"]
