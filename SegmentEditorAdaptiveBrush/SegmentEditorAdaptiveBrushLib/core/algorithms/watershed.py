"""Marker-based watershed on the gradient magnitude.

Two markers flood the gradient-magnitude relief: the object marker is the part of a small
ball around the seed that lies in the sampled range, the background marker every voxel whose
(smoothed) intensity lies clearly outside it. Where they meet, on the crest of the gradient,
is the boundary. Edge sensitivity decides what counts as "clearly outside": the margin is
one half-width of the sampled range at the default (40 %) and halves every 20 points above.
Without any background voxel the tissue is uniform and the whole brush is selected.
"""

from __future__ import annotations

import logging

import numpy as np
import SimpleITK as sitk

from ..paramspec import ParamSpec
from .base import Algorithm, BrushInput
from .features import contrast_scale, gradient_magnitude, seed_marker, sensitivity_gain, unlike_seed
from .workgrid import WorkGrid, make_work_grid

logger = logging.getLogger(__name__)

NAME = "watershed"

# Flooding costs grow with the number of voxels and of distinct gradient levels; at full
# resolution a 25 mm brush took ~170 ms, on this budget it stays in tens of milliseconds.
MAX_VOXELS = 60_000

OBJECT, BACKGROUND = 1, 2

# Gradients above this many half-widths of the sampled range are all equally strong walls.
RELIEF_TOP = 8.0

PARAMETERS = (
    ParamSpec(
        "watershed_marker_size",
        20.0,
        "float",
        1.0,
        80.0,
        unit="%",
        algorithm=NAME,
        doc="Radius of the object marker around the seed, in % of the brush radius.",
    ),
    ParamSpec(
        "watershed_background_margin",
        1.0,
        "float",
        0.1,
        10.0,
        unit="half-widths",
        algorithm=NAME,
        doc="How far outside the sampled range (in half-widths of it) a voxel must lie to "
        "seed the background, at the default edge sensitivity.",
    ),
)


def markers(grid: WorkGrid, inp: BrushInput) -> np.ndarray:
    """uint8 marker image on the work grid: 1 object, 2 background, 0 to be flooded."""
    params = inp.params
    radius = params["brush_radius_mm"] * params["watershed_marker_size"] / 100.0
    margin = params["watershed_background_margin"] / sensitivity_gain(params["edge_sensitivity"])
    labels = np.zeros(grid.image.shape, dtype=np.uint8)
    labels[unlike_seed(grid.image, inp.stats, margin)] = BACKGROUND
    labels[seed_marker(grid.image, inp.stats, grid.seed, grid.spacing, radius)] = OBJECT
    return labels


def relief_levels(gradient: np.ndarray, inp: BrushInput) -> np.ndarray:
    """Gradient quantised to 256 levels, saturating at ``RELIEF_TOP`` half-widths of the range.

    Flooding a float relief visits as many levels as there are distinct values; 256 levels
    make it three to four times faster, and every edge stronger than the top is a wall.
    """
    top = RELIEF_TOP * contrast_scale(inp.stats)
    levels = np.minimum(gradient * np.float32(255.0 / top), np.float32(255.0))
    return levels.astype(np.uint8)


def watershed(inp: BrushInput) -> np.ndarray:
    """Object basin of a two-marker watershed on the gradient magnitude.

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
    labels = markers(grid, inp)
    if not np.any(labels == BACKGROUND):
        return grid.expand(np.ones(grid.image.shape, dtype=bool))
    relief = grid.to_sitk(relief_levels(gradient_magnitude(grid.image), inp))
    flooded = sitk.MorphologicalWatershedFromMarkers(
        relief, grid.to_sitk(labels), markWatershedLine=False, fullyConnected=False
    )
    return grid.expand(sitk.GetArrayViewFromImage(flooded) == OBJECT)


ALGORITHM = Algorithm(
    name=NAME,
    label="Watershed",
    run=watershed,
    parameters=PARAMETERS,
)
