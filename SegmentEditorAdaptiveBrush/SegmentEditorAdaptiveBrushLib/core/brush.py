"""One brush application on a volume array: place, sample, segment, clip, post-process.

Non-finite voxels (NaN, +/-inf, or float64 values beyond float32's range) in a float volume
never belong to a result: they are taken out of the brush before sampling, so no statistic
sees them, and the algorithms see them as intensities far below the sampled range, so every
front stops at them as at a strong edge. A brush centred on such a voxel is refused.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .algorithms import ALGORITHMS, BrushInput, IntensityStats
from .algorithms.features import contrast_scale
from .errors import AlgorithmError, BrushGeometryError
from .geometry import BrushRegion, brush_region, plane_normal, spacing_kji
from .params import BrushParameters
from .postprocess import postprocess
from .sampling import sample_intensities

logger = logging.getLogger(__name__)

# Non-finite voxels are handed to the algorithms this many half-widths of the sampled range
# below it: clearly other tissue (beyond the background margins of watershed and random
# walker at their defaults, 1 half-width, 4 at 0 % sensitivity), but not so far that
# smoothing and block averaging carry it several voxels into the tissue next to it (at 100
# half-widths the level set lost the tissue 3 mm from a NaN ball).
NON_FINITE_DISTANCE = 5.0


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
        In a float volume, ``inp.brush`` leaves out the non-finite voxels and ``inp.image``
        holds a value far below the sampled range in their place (see the module's
        docstring); ``region.brush`` is the geometric brush.

    Raises
    ------
    BrushGeometryError
        When the brush cannot be placed, or the voxel under its centre is not finite.
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
    finite = None if _is_integer(volume) else _finite_voxels(roi, region)
    brush = region.brush if finite is None else region.brush & finite
    stats = sample_intensities(roi, brush, region.seed, spacing, params)
    if finite is not None:
        roi = np.where(finite, roi, np.float32(_non_finite_value(stats)))
    return region, BrushInput(roi, region.seed, spacing, brush, stats, params)


def _is_integer(volume: np.ndarray) -> bool:
    return bool(np.issubdtype(volume.dtype, np.integer) or volume.dtype == np.bool_)


def _finite_voxels(roi: np.ndarray, region: BrushRegion) -> np.ndarray | None:
    """Bool (k, j, i) mask of the ROI's finite voxels, or None when all are finite.

    Raises
    ------
    BrushGeometryError
        When the seed voxel itself is not finite: there is no tissue to sample there.
    """
    finite = np.isfinite(roi)
    if finite.all():
        return None
    if not finite[region.seed]:
        k, j, i = region.seed_in_volume
        raise BrushGeometryError(
            f"the voxel under the brush centre (i, j, k = {i}, {j}, {k}) is "
            f"{float(roi[region.seed])} in the source volume, so there is no intensity to "
            "sample; start the stroke on a voxel with a finite value"
        )
    logger.debug("%d non-finite voxels left out of the brush", int(finite.size - finite.sum()))
    return finite


def _non_finite_value(stats: IntensityStats) -> float:
    """Intensity the algorithms see in place of a non-finite voxel: far below the range."""
    return float(stats.low) - NON_FINITE_DISTANCE * contrast_scale(stats)


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
    # Clipped to the input's brush, which leaves out non-finite voxels, after
    # post-processing too: hole filling would otherwise add a NaN voxel the result encloses.
    mask = postprocess(raw & inp.brush, region.seed, inp.spacing, params) & inp.brush
    if logger.isEnabledFor(logging.DEBUG):  # counting the voxels is a pass over the ROI
        logger.debug(
            "%s on ROI %s: %d voxels in %.1f ms",
            algorithm.name,
            region.shape,
            int(mask.sum()),
            (time.perf_counter() - started) * 1000,
        )
    return BrushResult(region=region, mask=mask, stats=inp.stats)
