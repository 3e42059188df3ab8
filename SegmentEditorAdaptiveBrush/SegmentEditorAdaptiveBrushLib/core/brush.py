"""One brush application on a volume array: place, sample, segment, clip, post-process."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .algorithms import ALGORITHMS, BrushInput, IntensityStats
from .errors import AlgorithmError
from .geometry import BrushRegion, brush_region, plane_normal, spacing_kji
from .params import BrushParameters
from .postprocess import postprocess
from .sampling import sample_intensities

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BrushResult:
    """The voxels one brush application selects.

    ``mask`` is bool (k, j, i) over ``region`` (ROI); ``region.start`` places it in the volume.
    """

    region: BrushRegion
    mask: np.ndarray
    stats: IntensityStats


def brush_normal(params: BrushParameters) -> np.ndarray | None:
    """Plane normal (RAS) for a 2d brush, None for a 3d brush."""
    if params["brush_mode"] != "2d":
        return None
    return plane_normal(params["slice_orientation"], params["slice_normal"])


def prepare_brush_input(
    volume: np.ndarray,
    ijk_to_ras: np.ndarray,
    center_ras: npt.ArrayLike,
    params: BrushParameters,
) -> tuple[BrushRegion, BrushInput]:
    """Place the brush and sample the seed's intensities: what an algorithm receives.

    Parameters
    ----------
    volume : ndarray, shape (k, j, i)
        The whole source volume (only the ROI is read).
    ijk_to_ras : ndarray, shape (4, 4)
        The volume's IJKToRAS matrix (mm).
    center_ras : array-like of 3 floats
        Brush centre in RAS (mm).
    params : BrushParameters
        Complete parameter set.

    Returns
    -------
    region : BrushRegion
        Where the ROI lies in the volume and the brush mask over it.
    inp : BrushInput
        The ROI as float32 (k, j, i), seed, spacing (mm), brush, statistics, parameters.
    """
    region = brush_region(
        ijk_to_ras,
        volume.shape,
        center_ras,
        params["brush_radius_mm"],
        params["roi_margin"] / 100.0,
        brush_normal(params),
    )
    roi = np.asarray(volume[region.slices], dtype=np.float32)
    spacing = spacing_kji(ijk_to_ras)
    stats = sample_intensities(roi, region.brush, region.seed, spacing, params)
    return region, BrushInput(roi, region.seed, spacing, region.brush, stats, params)


def compute_brush(
    volume: np.ndarray,
    ijk_to_ras: np.ndarray,
    center_ras: npt.ArrayLike,
    params: BrushParameters,
) -> BrushResult:
    """Segment by image content inside the brush centred at ``center_ras``.

    Parameters
    ----------
    volume : ndarray, shape (k, j, i)
        The whole source volume (only the ROI is read).
    ijk_to_ras : ndarray, shape (4, 4)
        The volume's IJKToRAS matrix (mm).
    center_ras : array-like of 3 floats
        Brush centre in RAS (mm).
    params : BrushParameters
        Complete parameter set.
    """
    started = time.perf_counter()
    region, inp = prepare_brush_input(volume, ijk_to_ras, center_ras, params)
    algorithm = ALGORITHMS[params["algorithm"]]
    try:
        raw = np.asarray(algorithm.run(inp), dtype=bool)
    except RuntimeError as error:
        raise AlgorithmError(f"{algorithm.label} failed: {error}") from error
    mask = postprocess(raw & region.brush, region.seed, inp.spacing, params) & region.brush
    if logger.isEnabledFor(logging.DEBUG):  # counting the voxels is a pass over the ROI
        logger.debug(
            "%s on ROI %s: %d voxels in %.1f ms",
            algorithm.name,
            region.shape,
            int(mask.sum()),
            (time.perf_counter() - started) * 1000,
        )
    return BrushResult(region=region, mask=mask, stats=inp.stats)
