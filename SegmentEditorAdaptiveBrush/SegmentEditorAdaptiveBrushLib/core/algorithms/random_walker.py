"""Random walker (scikit-image): each voxel joins the label a random walk reaches first.

Labels: the in-range part of a small ball around the seed is the object, voxels whose
smoothed intensity lies clearly outside the sampled range are background, and only the
other voxels inside the brush are unknowns; voxels outside the brush that are not background
take no part. This keeps the linear system small (only the brush's unknowns) and leaves the
brush rim free, so uniform tissue reaching the rim is not pulled toward background. Large
ROIs are solved on a coarser grid. Edge sensitivity scales beta (edge weighting): it
doubles every 20 points above 40 %.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable

import numpy as np
import SimpleITK as sitk

from ..errors import AlgorithmError
from ..paramspec import ParamSpec
from .base import Algorithm, BrushInput
from .features import (
    contrast_scale,
    erode_faces,
    in_range_region,
    seed_marker,
    sensitivity_gain,
    thin_axes,
    unlike_seed,
)
from .workgrid import WorkGrid, make_work_grid

logger = logging.getLogger(__name__)

NAME = "random_walker"

# The conjugate-gradient solve grows faster than linearly with the unknowns; about 30k ROI
# voxels (roughly 10k unknowns in the brush) keep a 25 mm brush within its budget.
MAX_VOXELS = 20_000

OBJECT, BACKGROUND, INACTIVE = 1, 2, -1

# Outside this many half-widths of the sampled range a voxel is certainly not the object.
BACKGROUND_MARGIN = 1.0

# Width (work-grid voxels) of the band along the in-range region's border left unknown.
UNCERTAIN_BAND = 2

PARAMETERS = (
    ParamSpec(
        "random_walker_beta",
        2.0,
        "float",
        0.01,
        100.0,
        unit="factor",
        algorithm=NAME,
        doc="Edge weighting: a step of one half-width of the sampled range between two "
        "voxels multiplies their coupling by exp(-beta), at the default edge sensitivity.",
    ),
    ParamSpec(
        "random_walker_marker_size",
        20.0,
        "float",
        1.0,
        80.0,
        unit="%",
        algorithm=NAME,
        doc="Radius of the object label around the seed, in % of the brush radius.",
    ),
)


def labels_for(grid: WorkGrid, inp: BrushInput) -> np.ndarray:
    """int32 label image on the work grid: 1 object, 2 background, 0 unknown, -1 inactive."""
    params = inp.params
    radius = params["brush_radius_mm"] * params["random_walker_marker_size"] / 100.0
    labels = np.where(grid.brush, 0, INACTIVE).astype(np.int32)
    labels[unlike_seed(grid.image, inp.stats, BACKGROUND_MARGIN)] = BACKGROUND
    labels[seed_marker(grid.image, inp.stats, grid.seed, grid.spacing, radius)] = OBJECT
    labels[confident_object(grid, inp)] = OBJECT
    return _drop_unreachable(labels, grid)


def confident_object(grid: WorkGrid, inp: BrushInput) -> np.ndarray:
    """The seed's in-range region minus a band of ``UNCERTAIN_BAND`` voxels along its border.

    Labelling the confident core leaves the walk to decide only the band near edges: far
    fewer unknowns, and a large object label keeps the solver well conditioned (with a
    tiny label on uniform tissue conjugate gradients took hundreds of milliseconds).
    """
    region = in_range_region(grid.image, inp.stats, grid.seed, grid.to_sitk)
    # Only along thin axes: two 5 mm slices off each side would erase a small lesion.
    return erode_faces(region, UNCERTAIN_BAND, thin_axes(grid.spacing))


def _drop_unreachable(labels: np.ndarray, grid: WorkGrid) -> np.ndarray:
    """Make inactive every voxel not face-connected to the seed through active voxels.

    An unknown voxel cut off from every label gives the linear system an empty row, and
    the conjugate-gradient solver then runs for seconds instead of milliseconds.
    """
    active = grid.to_sitk((labels >= 0).astype(np.uint8))
    components = sitk.ConnectedComponent(active, False)
    parts = sitk.GetArrayFromImage(components)
    labels[parts != parts[grid.seed]] = INACTIVE
    return labels


def skimage_beta(normalised: np.ndarray, beta: float) -> float:
    """scikit-image's beta for our ``beta`` on ``normalised`` data.

    scikit-image weighs an edge by exp(-beta * diff**2 / (10 * std(data))); with the data in
    half-widths of the sampled range, this makes the weight exp(-beta * diff**2).
    """
    return float(beta) * 10.0 * max(float(normalised.std()), 1e-6)


def random_walker(inp: BrushInput) -> np.ndarray:
    """Voxels more likely to be reached from the object label than from the background.

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
    labels = labels_for(grid, inp)
    if not np.any(labels == BACKGROUND):
        return grid.expand(grid.brush)
    if not np.any(labels == 0):
        return grid.expand(labels == OBJECT)
    data = grid.image / np.float32(contrast_scale(inp.stats))
    beta = params["random_walker_beta"] * sensitivity_gain(params["edge_sensitivity"])
    solve = _skimage_random_walker()
    with warnings.catch_warnings():
        # Isolated unknown voxels trigger a warning; they are labelled background, as wanted.
        warnings.simplefilter("ignore", UserWarning)
        result = solve(data, labels, beta=skimage_beta(data, beta), mode="cg_j", tol=1e-2)
    return grid.expand(result == OBJECT)


def _skimage_random_walker() -> Callable[..., np.ndarray]:
    """scikit-image's solver, imported on first use: a Slicer without scikit-image can
    still load the effect and use every other algorithm."""
    try:
        from skimage.segmentation import random_walker as solver
    except ImportError as error:
        raise AlgorithmError(
            "the random walker needs scikit-image; in Slicer's Python console run "
            'slicer.util.pip_install("scikit-image")'
        ) from error
    return solver


ALGORITHM = Algorithm(
    name=NAME,
    label="Random walker",
    run=random_walker,
    parameters=PARAMETERS,
)
