"""Registry of brush algorithms: name -> Algorithm.

Every algorithm is a pure function ``BrushInput -> bool (k, j, i) mask``.
"""

from __future__ import annotations

from . import connected_threshold, geodesic_distance
from .base import Algorithm, BrushInput, IntensityStats

ALGORITHMS: dict[str, Algorithm] = {
    module.ALGORITHM.name: module.ALGORITHM for module in (geodesic_distance, connected_threshold)
}

__all__ = ["ALGORITHMS", "Algorithm", "BrushInput", "IntensityStats"]
