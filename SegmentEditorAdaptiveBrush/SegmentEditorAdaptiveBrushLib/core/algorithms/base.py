"""What every brush algorithm receives, and the registry they join."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..paramspec import ParamSpec


@dataclass(frozen=True)
class IntensityStats:
    """Intensities sampled around the seed.

    ``low`` / ``high`` bound the intensities the brush should accept (image units, e.g. HU);
    ``mean`` / ``std`` describe the sampled population (or the chosen mixture component).
    """

    low: float
    high: float
    mean: float
    std: float


@dataclass(frozen=True)
class BrushInput:
    """The region of interest handed to an algorithm.

    Attributes
    ----------
    image : ndarray of float32, shape (k, j, i)
        Image intensities in the ROI (brush bounding box plus margin).
    seed : tuple of int
        (k, j, i) index of the voxel under the cursor, inside the ROI.
    spacing : tuple of float
        Voxel size in mm along (k, j, i).
    brush : ndarray of bool, shape (k, j, i)
        The brush sphere or disk inside the ROI; results are clipped to it afterwards.
    stats : IntensityStats
        Intensities sampled around the seed.
    params : Mapping
        The complete, validated parameter set (names as in ``params.py``).
    """

    image: np.ndarray
    seed: tuple[int, int, int]
    spacing: tuple[float, float, float]
    brush: np.ndarray
    stats: IntensityStats
    params: Mapping[str, Any]


AlgorithmFn = Callable[[BrushInput], np.ndarray]


@dataclass(frozen=True)
class Algorithm:
    """A registered algorithm: its name in recipes, label in the GUI, function, parameters."""

    name: str
    label: str
    run: AlgorithmFn
    parameters: tuple[ParamSpec, ...] = ()
