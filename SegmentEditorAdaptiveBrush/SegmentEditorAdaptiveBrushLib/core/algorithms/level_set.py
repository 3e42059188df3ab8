"""Threshold level set: a smooth front that grows over the sampled intensity range.

The front starts from the connected in-range region around the seed (on the smoothed
image) and evolves with SimpleITK's threshold segmentation level set: it expands over
intensities inside [low, high], retreats outside, and its curvature term rounds it off,
so thin protrusions retract and narrow gaps are not crossed.

The filter's propagation speed is the distance of the intensity to the nearer end of
[low, high] in image units, so with the raw image it is tens to hundreds (HU) while the
curvature term is about 1 / mm: the curvature weight did almost nothing. The image is
therefore handed over in half-widths of the range (``feature_image``): propagation is 1 at
the range's centre, 0 at its ends and -1 from one half-width beyond them. The curvature
weight is a length, ``level_set_curvature`` * ``CURVATURE_LENGTH`` of the brush radius:
where the front's radius of curvature is below it (in 2D; twice it in 3D) curvature beats
propagation at the range's centre, so a brush of any size is smoothed alike. Edge
sensitivity narrows [low, high] (sampling) and stiffens the front: the curvature weight
grows by sqrt(2) every 20 points above 40 %.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import SimpleITK as sitk

from ..paramspec import ParamSpec
from .base import Algorithm, BrushInput, IntensityStats
from .features import (
    contrast_scale,
    face_neighbours,
    grow_into_range,
    in_range_region,
    seed_marker,
    sensitivity_gain,
)
from .workgrid import WorkGrid, make_work_grid

logger = logging.getLogger(__name__)

NAME = "level_set"

# Each iteration costs about 75 ns per work-grid voxel (the whole grid, not only the band
# around the front); 10 iterations on this budget take about 10 ms.
MAX_VOXELS = 12_000

# Radius of the ball around the seed the front starts from, in % of the brush radius.
START_BALL = 10.0

# Voxels an oblique 2D brush's start region extends beyond the plane on each side: a plate
# one voxel thick has a rim whose curvature (about 1 / half a voxel) shrank the disk by a
# fifth at the default weight; with two voxels either side the front holds.
OBLIQUE_THICKENING = 2

# Curvature length per unit of ``level_set_curvature``, as a fraction of the brush radius:
# at the top of the range (10) a protrusion whose half-width is below a fifth of the radius
# retracts. Small enough at the default (1) that a 5 mm brush on a 3 mm lesion keeps its rim.
CURVATURE_LENGTH = 0.02

# Intensities are clipped at this many half-widths from the range's centre: the retreat
# speed outside the range is at most the growth speed inside it, so one far-off voxel on the
# front cannot shrink the time step of the whole evolution.
FEATURE_CLIP = 2.0

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
        doc="Smoothness of the front: protrusions narrower than this x 4 % of the brush "
        "radius retract (given enough iterations), at the default edge sensitivity; 0 = off.",
    ),
)


def initial_region(grid: WorkGrid, inp: BrushInput) -> sitk.Image:
    """uint8 start region: the seed's in-range region (smoothed image) and a small ball.

    The ball's in-range voxels (``START_BALL`` % of the radius, at least two finest work
    voxels) give the front a body when the smoothed seed lies outside the range, where a
    single voxel would be erased by the curvature term. Clipped to the brush (see
    ``start_limit``) so that the zero level exists: a region filling the whole work grid has
    no boundary, and nothing came back.
    """
    radius = max(inp.params["brush_radius_mm"] * START_BALL / 100.0, 2.0 * min(grid.spacing))
    # Only the ball's in-range voxels: on a brush a few voxels across, the whole ball would
    # reach other tissue, and a start region that fills the grid leaves no front to move.
    ball = seed_marker(grid.image, inp.stats, grid.seed, grid.spacing, radius)
    region = in_range_region(grid.image, inp.stats, grid.seed, grid.to_sitk) | ball
    # Smoothing pulls the rim's intensities out of range; two steps over the raw image put
    # the start at the edge, so a few iterations settle the front instead of thirty.
    region = grow_into_range(region, grid.image, inp.stats, grid.spacing, steps=2)
    return grid.to_sitk((region & start_limit(grid, inp)).astype(np.uint8))


def start_limit(grid: WorkGrid, inp: BrushInput) -> np.ndarray:
    """Where the start region may lie: the brush, or for an oblique 2D brush (a plane in a
    3D work grid) the brush thickened by ``OBLIQUE_THICKENING`` voxels on each side."""
    if inp.params["brush_mode"] != "2d" or grid.image.ndim < 3:
        return grid.brush
    limit = grid.brush
    for _ in range(OBLIQUE_THICKENING):
        limit = face_neighbours(limit)
    return limit


def feature_image(image: np.ndarray, stats: IntensityStats) -> np.ndarray:
    """float32 intensities in half-widths from the range's centre, clipped to +/-``FEATURE_CLIP``.

    With thresholds -1 and 1 the filter's propagation speed is then 1 - |value|: 1 at the
    centre of [low, high], 0 at its ends, never below 1 - ``FEATURE_CLIP``.
    """
    centre = np.float32(0.5 * (float(stats.low) + float(stats.high)))
    feature = (image - centre) * np.float32(1.0 / contrast_scale(stats))
    return np.clip(feature, -FEATURE_CLIP, FEATURE_CLIP, out=feature)


def curvature_weight(params: Mapping[str, Any]) -> float:
    """The filter's curvature scaling in mm: weight x ``CURVATURE_LENGTH`` x radius x sqrt(gain)."""
    length = params["level_set_curvature"] * CURVATURE_LENGTH * params["brush_radius_mm"]
    return float(length * np.sqrt(sensitivity_gain(params["edge_sensitivity"])))


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
    evolve.SetLowerThreshold(-1.0)
    evolve.SetUpperThreshold(1.0)
    evolve.SetNumberOfIterations(int(params["level_set_iterations"]))
    evolve.SetMaximumRMSError(0.02)
    evolve.SetPropagationScaling(1.0)
    evolve.SetCurvatureScaling(curvature_weight(params))
    result = evolve.Execute(initial, grid.to_sitk(feature_image(grid.image, inp.stats)))
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
