"""Confidence connected region growing: a flood whose range follows the region's own statistics.

The first flood accepts the sampled zone's mean +/- multiplier * std; every further pass
re-estimates mean and std from the region just grown and floods again, so the range
settles on the structure's own spread. This is SimpleITK's confidence-connected scheme
started from the brush's sampled statistics instead of a fixed voxel neighbourhood of the
seed (which spans +/-5 mm across thick slices and made the result jump with the slice
thickness). Edge sensitivity narrows the multiplier (``effective_multiplier``).
"""

from __future__ import annotations

import logging

import numpy as np
import SimpleITK as sitk

from ..paramspec import ParamSpec
from .base import Algorithm, BrushInput
from .features import seed_median, sensitivity_gain
from .workgrid import WorkGrid, make_work_grid

logger = logging.getLogger(__name__)

NAME = "confidence_connected"

MAX_VOXELS = 120_000

PARAMETERS = (
    ParamSpec(
        "confidence_multiplier",
        2.0,
        "float",
        0.5,
        10.0,
        unit="sd",
        algorithm=NAME,
        doc="Accepted range is the region's mean +/- this many standard deviations "
        "(at the default edge sensitivity).",
    ),
    ParamSpec(
        "confidence_iterations",
        2,
        "int",
        0,
        20,
        unit="passes",
        algorithm=NAME,
        doc="Passes that re-estimate mean and standard deviation from the grown region.",
    ),
)


def effective_multiplier(multiplier: float, edge_sensitivity: float) -> float:
    """``multiplier`` scaled by edge sensitivity: x1.41 at 0 %, x1 at 40 %, x0.59 at 100 %."""
    return float(multiplier) / float(sensitivity_gain(edge_sensitivity)) ** 0.25


def flood(grid: WorkGrid, low: float, high: float) -> np.ndarray:
    """Voxels face-connected to the seed with intensity in [low, high]; the seed always."""
    image = grid.image
    if not low <= float(image[grid.seed]) <= high:
        image = image.copy()
        image[grid.seed] = np.float32(np.clip(image[grid.seed], low, high))
    region = sitk.ConnectedThreshold(
        grid.to_sitk(image), seedList=[grid.seed_xyz], lower=low, upper=high
    )
    return sitk.GetArrayFromImage(region) > 0


def confidence_connected(inp: BrushInput) -> np.ndarray:
    """Confidence connected flood from the seed over the brush's box.

    Parameters
    ----------
    inp : BrushInput
        ROI (k, j, i), seed, spacing (mm), brush, sampled statistics and parameters.

    Returns
    -------
    ndarray of bool, shape (k, j, i)
        Selected voxels of the ROI (not yet clipped to the brush).
    """
    params = inp.params
    grid = make_work_grid(inp, MAX_VOXELS)
    factor = effective_multiplier(params["confidence_multiplier"], params["edge_sensitivity"])
    at_seed = seed_median(grid.image, grid.brush, grid.seed)
    mean, std = float(inp.stats.mean), float(inp.stats.std)
    region = flood(grid, *_accepted(mean, std, factor, at_seed))
    for _ in range(int(params["confidence_iterations"])):
        # Statistics of the region inside the brush only: what the flood found beyond it
        # is cut off later and must not steer the range.
        values = grid.image[region & grid.brush]
        if values.size < 2:
            break
        mean, std = float(values.mean()), float(values.std())
        region = flood(grid, *_accepted(mean, std, factor, at_seed))
    return grid.expand(region)


def _accepted(mean: float, std: float, factor: float, at_seed: float) -> tuple[float, float]:
    """mean +/- factor * std, stretched to hold the seed's neighbourhood median.

    A region that leaked into darker tissue pulls the mean away from a bright seed; the
    next pass then excluded the seed itself and collapsed to a single voxel.
    """
    return min(mean - factor * std, at_seed), max(mean + factor * std, at_seed)


ALGORITHM = Algorithm(
    name=NAME,
    label="Confidence connected",
    run=confidence_connected,
    parameters=PARAMETERS,
)
