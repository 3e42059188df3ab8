"""Geodesic distance: fast marching from the seed through a speed image that slows at edges.

The speed is 1 on tissue like the seed's and falls at strong gradients and at intensities
outside the sampled range. The arrival time (mm of travel at unit speed) is thresholded at
the brush radius, so on uniform tissue the brush fills its whole sphere and at an edge the
front stalls. Edge sensitivity scales how strongly gradients slow the front.
"""

from __future__ import annotations

import logging

import numpy as np
import SimpleITK as sitk

from ..paramspec import ParamSpec
from .base import Algorithm, BrushInput
from .features import (
    edge_scale,
    edge_speed,
    face_neighbours,
    gradient_magnitude,
    grow_into_range,
    intensity_speed,
    seed_median,
    sensitivity_gain,
    smooth,
)
from .workgrid import WorkGrid, make_work_grid

logger = logging.getLogger(__name__)

NAME = "geodesic_distance"

# Fast marching costs about 1 microsecond per voxel it reaches; 60k voxels keep a 25 mm
# brush well inside the stroke budget while a 10 mm brush runs at full resolution.
MAX_VOXELS = 60_000

# Speed never reaches exactly zero so that arrival times stay finite inside the brush; the
# stopping value ends the march long before such voxels would be reached anyway.
MIN_SPEED = 1e-4

PARAMETERS = (
    ParamSpec(
        "geodesic_reach",
        120.0,
        "float",
        50.0,
        300.0,
        unit="%",
        algorithm=NAME,
        doc="Arrival-time limit in % of the brush radius: how far the front travels on "
        "uniform tissue.",
    ),
    ParamSpec(
        "geodesic_intensity_weight",
        1.0,
        "float",
        0.0,
        5.0,
        unit="factor",
        algorithm=NAME,
        doc="How strongly intensities outside the sampled range slow the front (0 = ignore).",
    ),
)


def speed_image(grid: WorkGrid, inp: BrushInput) -> np.ndarray:
    """Speed in (0, 1] on the work grid, normalised so the seed's tissue moves at about 1."""
    params = inp.params
    smoothed = smooth(grid.image)
    gradient = gradient_magnitude(grid.image)
    scale = edge_scale(gradient, smoothed, inp.stats, grid.brush)
    gain = sensitivity_gain(params["edge_sensitivity"])
    speed = edge_speed(gradient, scale, gain)
    # Smoothed intensities, so single noisy voxels inside the structure do not stall it.
    speed *= intensity_speed(smoothed, inp.stats, params["geodesic_intensity_weight"])
    speed = _normalise_at_seed(speed, grid)
    # The front may step one voxel beyond the brush: an oblique 2D brush is a digital plane
    # whose voxels touch only by edges and corners, which fast marching cannot cross.
    allowed = face_neighbours(grid.brush)
    speed[~allowed] = 0.0
    return np.maximum(speed, np.float32(MIN_SPEED), out=speed, where=allowed)


def _normalise_at_seed(speed: np.ndarray, grid: WorkGrid) -> np.ndarray:
    """Divide by the median speed around the seed so noise alone does not shrink the brush."""
    reference = seed_median(speed, grid.brush, grid.seed)
    if reference <= MIN_SPEED:
        return speed
    return np.minimum(speed / np.float32(reference), np.float32(1.0))


def geodesic_distance(inp: BrushInput) -> np.ndarray:
    """Voxels whose geodesic arrival time from the seed is within the brush radius.

    Parameters
    ----------
    inp : BrushInput
        ROI (k, j, i), seed, spacing (mm), brush, sampled statistics and parameters.

    Returns
    -------
    ndarray of bool, shape (k, j, i)
        Selected voxels of the ROI (not yet clipped to the brush).
    """
    grid = make_work_grid(inp, MAX_VOXELS)
    limit = float(inp.params["brush_radius_mm"]) * float(inp.params["geodesic_reach"]) / 100.0
    march = sitk.FastMarchingImageFilter()
    march.SetTrialPoints([grid.seed_xyz])
    # Slightly past the limit so the threshold below sees final times at the limit itself.
    march.SetStoppingValue(limit * 1.05)
    arrival = march.Execute(grid.to_sitk(speed_image(grid, inp)))
    selected = sitk.GetArrayViewFromImage(arrival) <= limit
    return grid.expand(grow_into_range(selected, grid.image, inp.stats, grid.spacing, steps=2))


ALGORITHM = Algorithm(
    name=NAME,
    label="Geodesic distance",
    run=geodesic_distance,
    parameters=PARAMETERS,
)
