"""Threshold level set: a smooth front that grows over the sampled intensity range.

The front starts from the connected in-range region around the seed (on the smoothed
image) and evolves with SimpleITK's threshold segmentation level set: it expands over
intensities inside [low, high], retreats outside, and its curvature term keeps it from
squeezing through narrow gaps. Edge sensitivity narrows [low, high] (sampling) and stiffens
the front: the curvature weight grows by sqrt(2) every 20 points above 40 %.
"""

from __future__ import annotations

import logging

import numpy as np
import SimpleITK as sitk

from ..paramspec import ParamSpec
from .base import Algorithm, BrushInput
from .features import grow_into_range, in_range_region, seed_ball, sensitivity_gain
from .workgrid import WorkGrid, make_work_grid

logger = logging.getLogger(__name__)

NAME = "level_set"

# Each iteration costs about 75 ns per work-grid voxel (the whole grid, not only the band
# around the front); 10 iterations on this budget take about 10 ms.
MAX_VOXELS = 12_000

# Radius of the ball around the seed the front starts from, in % of the brush radius.
START_BALL = 10.0

PARAMETERS = (
    ParamSpec(
        "level_set_iterations",
        10,
        "int",
        1,
        500,
        unit="iterations",
        algorithm=NAME,
        doc="Maximum number of level-set iterations.",
    ),
    ParamSpec(
        "level_set_curvature",
        1.0,
        "float",
        0.0,
        10.0,
        unit="factor",
        algorithm=NAME,
        doc="Weight of the curvature (smoothness) term relative to the threshold "
        "propagation, at the default edge sensitivity.",
    ),
)


def initial_region(grid: WorkGrid, inp: BrushInput) -> sitk.Image:
    """uint8 start region: the seed's in-range region (smoothed image) and a small ball.

    The ball (``START_BALL`` % of the radius, at least two finest work voxels) gives the front a
    body when the smoothed seed lies outside the range, where a single voxel would be
    erased by the curvature term. Clipped to the brush so that the zero level always
    exists: a region filling the whole work grid has no boundary, and nothing came back.
    """
    radius = max(inp.params["brush_radius_mm"] * START_BALL / 100.0, 2.0 * min(grid.spacing))
    ball = seed_ball(grid.image.shape, grid.seed, grid.spacing, radius)
    region = in_range_region(grid.image, inp.stats, grid.seed, grid.to_sitk) | ball
    # Smoothing pulls the rim's intensities out of range; two steps over the raw image put
    # the start at the edge, so a few iterations settle the front instead of thirty.
    region = grow_into_range(region, grid.image, inp.stats, grid.spacing, steps=2)
    return grid.to_sitk((region & grid.brush).astype(np.uint8))


def level_set(inp: BrushInput) -> np.ndarray:
    """Region inside the zero level of a threshold segmentation level set.

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
    start = initial_region(grid, inp)
    # ITK's segmentation level sets take the object as the negative side of the zero level;
    # the filter rebuilds a distance function around that level itself, so a two-valued
    # image is enough and saves computing a distance map.
    initial = sitk.Cast(start, sitk.sitkFloat32) * -1.0 + 0.5
    evolve = sitk.ThresholdSegmentationLevelSetImageFilter()
    evolve.SetLowerThreshold(float(inp.stats.low))
    evolve.SetUpperThreshold(float(inp.stats.high))
    evolve.SetNumberOfIterations(int(params["level_set_iterations"]))
    evolve.SetMaximumRMSError(0.02)
    evolve.SetPropagationScaling(1.0)
    curvature = params["level_set_curvature"] * np.sqrt(
        sensitivity_gain(params["edge_sensitivity"])
    )
    evolve.SetCurvatureScaling(float(curvature))
    result = evolve.Execute(initial, grid.to_sitk(grid.image))
    inside = sitk.GetArrayFromImage(result) <= 0
    if not inside[grid.seed]:
        # Intensities around the seed lie outside the sampled range (a zone dominated by
        # other tissue), so the front collapsed; the start region is the better answer.
        logger.warning("level set lost the seed; returning its start region instead")
        inside = sitk.GetArrayFromImage(start) > 0
    return grid.expand(inside)


ALGORITHM = Algorithm(
    name=NAME,
    label="Level set (threshold)",
    run=level_set,
    parameters=PARAMETERS,
)
