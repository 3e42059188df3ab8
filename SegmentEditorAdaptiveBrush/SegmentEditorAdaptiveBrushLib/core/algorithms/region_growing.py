"""Gradient-guided region growing: a flood over voxels that match the seed and are not edges.

A voxel joins when its (lightly smoothed) intensity lies in the sampled range and its
gradient magnitude stays below a limit; the flood is connected to the seed. Unlike a plain
connected threshold it stops at an edge between two structures whose intensities overlap.
Edge sensitivity acts through the sampled range: it narrows the accepted intensities and,
since the gradient limit is measured in half-widths of that range, lowers the limit too.
Two last steps add the in-range voxels that border the region, which the gradient test
alone would drop at every edge.
"""

from __future__ import annotations

import logging

import numpy as np
import SimpleITK as sitk

from ..paramspec import ParamSpec
from .base import Algorithm, BrushInput
from .features import (
    contrast_scale,
    gradient_magnitude,
    grow_into_range,
    smooth,
)
from .workgrid import make_work_grid

logger = logging.getLogger(__name__)

NAME = "region_growing"

MAX_VOXELS = 120_000

PARAMETERS = (
    ParamSpec(
        "region_growing_gradient_limit",
        1.0,
        "float",
        0.05,
        10.0,
        unit="half-widths per voxel",
        algorithm=NAME,
        doc="Largest gradient (intensity change per voxel, in half-widths of the sampled "
        "range) a voxel may have to join, at the default edge sensitivity.",
    ),
)


def candidates(image: np.ndarray, inp: BrushInput) -> np.ndarray:
    """Voxels allowed to join: in the sampled range and below the gradient limit."""
    stats, params = inp.stats, inp.params
    smoothed = smooth(image)
    # Relative to the sampled half-width, which edge sensitivity already narrows (x4.5
    # from 0 % to 100 %); scaling the limit by sensitivity again stopped the brush on noise.
    limit = params["region_growing_gradient_limit"] * contrast_scale(stats)
    in_range = (smoothed >= stats.low) & (smoothed <= stats.high)
    return np.asarray(in_range & (gradient_magnitude(image) <= np.float32(limit)))


def region_growing(inp: BrushInput) -> np.ndarray:
    """Gradient-guided flood from the seed.

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
    allowed = candidates(grid.image, inp)
    # The seed always joins: the user pointed at it even if it sits on a noisy voxel.
    allowed[grid.seed] = True
    flood = sitk.ConnectedThreshold(
        grid.to_sitk(allowed.astype(np.uint8)), seedList=[grid.seed_xyz], lower=1, upper=1
    )
    region = sitk.GetArrayViewFromImage(flood) > 0
    return grid.expand(grow_into_range(region, grid.image, inp.stats, grid.spacing, steps=2))


ALGORITHM = Algorithm(
    name=NAME,
    label="Region growing (gradient-guided)",
    run=region_growing,
    parameters=PARAMETERS,
)
