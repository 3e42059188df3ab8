"""Confidence connected region growing: a flood whose range follows the region's own statistics.

Starting from the seed's neighbourhood, SimpleITK grows the region over voxels within
mean +/- multiplier * std of the current region, re-estimating both from the region after
every pass. Edge sensitivity narrows the multiplier: the same factor as the sampled range
(``sampling.sensitivity_scale``), relative to its value at the default sensitivity.
"""

from __future__ import annotations

import logging

import numpy as np
import SimpleITK as sitk

from ..paramspec import ParamSpec
from .base import Algorithm, BrushInput
from .features import sensitivity_gain
from .workgrid import make_work_grid

logger = logging.getLogger(__name__)

NAME = "confidence_connected"

# The filter is a flood: cheap per voxel, but its statistics passes touch the whole region.
MAX_VOXELS = 120_000

PARAMETERS = (
    ParamSpec(
        "confidence_multiplier",
        2.5,
        "float",
        0.5,
        10.0,
        algorithm=NAME,
        doc="Accepted range is the region's mean +/- this many standard deviations "
        "(at the default edge sensitivity).",
    ),
    ParamSpec(
        "confidence_iterations",
        3,
        "int",
        0,
        20,
        algorithm=NAME,
        doc="Passes that re-estimate mean and standard deviation from the grown region.",
    ),
    ParamSpec(
        "confidence_initial_radius",
        1,
        "int",
        1,
        5,
        unit="voxels",
        algorithm=NAME,
        doc="Radius of the seed neighbourhood that gives the first mean and standard deviation.",
    ),
)


def effective_multiplier(multiplier: float, edge_sensitivity: float) -> float:
    """``multiplier`` scaled by edge sensitivity: x1.41 at 0 %, x1 at 40 %, x0.35 at 100 %."""
    return float(multiplier) / float(np.sqrt(sensitivity_gain(edge_sensitivity)))


def confidence_connected(inp: BrushInput) -> np.ndarray:
    """Confidence connected flood from the seed over the ROI.

    Parameters
    ----------
    inp : BrushInput
        ROI (k, j, i), seed, spacing (mm), brush and parameters.

    Returns
    -------
    ndarray of bool, shape (k, j, i)
        Selected voxels of the ROI (not yet clipped to the brush).
    """
    params = inp.params
    grid = make_work_grid(inp, MAX_VOXELS)
    grow = sitk.ConfidenceConnectedImageFilter()
    grow.SetSeedList([grid.seed_xyz])
    grow.SetMultiplier(
        effective_multiplier(params["confidence_multiplier"], params["edge_sensitivity"])
    )
    grow.SetNumberOfIterations(int(params["confidence_iterations"]))
    grow.SetInitialNeighborhoodRadius(int(params["confidence_initial_radius"]))
    grow.SetReplaceValue(1)
    region = grow.Execute(grid.to_sitk(grid.image))
    return grid.expand(sitk.GetArrayViewFromImage(region) > 0)


ALGORITHM = Algorithm(
    name=NAME,
    label="Confidence connected",
    run=confidence_connected,
    parameters=PARAMETERS,
)
