"""Threshold brush: an automatic histogram threshold over the brush, on the seed's side.

The threshold is computed by one of SimpleITK's histogram methods from the intensities
inside the brush; the voxels on the same side as the seed's neighbourhood are kept. Edge
sensitivity moves the threshold: above the default (40 %) toward the seed's intensity
(stricter), below it away from it, by up to half the gap at 0 % and 100 %.
"""

from __future__ import annotations

import logging

import numpy as np
import SimpleITK as sitk

from ..paramspec import ParamSpec
from .base import Algorithm, BrushInput

logger = logging.getLogger(__name__)

NAME = "threshold_brush"

THRESHOLD_FILTERS = {
    "otsu": sitk.OtsuThresholdImageFilter,
    "huang": sitk.HuangThresholdImageFilter,
    "triangle": sitk.TriangleThresholdImageFilter,
    "max_entropy": sitk.MaximumEntropyThresholdImageFilter,
    "isodata": sitk.IsoDataThresholdImageFilter,
    "li": sitk.LiThresholdImageFilter,
}

PARAMETERS = (
    ParamSpec(
        "threshold_method",
        "otsu",
        "choice",
        choices=tuple(THRESHOLD_FILTERS),
        algorithm=NAME,
        doc="Histogram method that picks the threshold from the intensities in the brush.",
    ),
    ParamSpec(
        "threshold_histogram_bins",
        128,
        "int",
        16,
        1024,
        unit="bins",
        algorithm=NAME,
        doc="Number of histogram bins the threshold method works on.",
    ),
)


def histogram_threshold(values: np.ndarray, method: str, bins: int) -> float:
    """Threshold (image units) that ``method`` finds on the 1-D sample ``values``.

    Raises
    ------
    ValueError
        For an unknown method name.
    """
    if method not in THRESHOLD_FILTERS:
        raise ValueError(
            f"unknown threshold method '{method}'; use one of {', '.join(THRESHOLD_FILTERS)}"
        )
    # A one-row image of the brush's values: the filters only need the histogram, and this
    # skips both the mask pass and the voxels of the ROI margin.
    image = sitk.GetImageFromArray(np.ascontiguousarray(values, dtype=np.float32)[None, :])
    finder = THRESHOLD_FILTERS[method]()
    finder.SetNumberOfHistogramBins(int(bins))
    finder.Execute(image)
    return float(finder.GetThreshold())


def shifted_threshold(threshold: float, seed_value: float, edge_sensitivity: float) -> float:
    """Move ``threshold`` toward (sensitivity above 40 %) or away from ``seed_value``."""
    sensitivity = min(max(float(edge_sensitivity), 0.0), 100.0)
    if sensitivity >= 40.0:
        fraction = 0.5 * (sensitivity - 40.0) / 60.0
    else:
        fraction = -0.5 * (40.0 - sensitivity) / 40.0
    return threshold + fraction * (seed_value - threshold)


def _seed_value(inp: BrushInput) -> float:
    """Median of the seed's 3x3x3 neighbourhood: one noisy voxel must not flip the polarity."""
    window = tuple(slice(max(s - 1, 0), s + 2) for s in inp.seed)
    return float(np.median(inp.image[window]))


def threshold_brush(inp: BrushInput) -> np.ndarray:
    """Voxels of the ROI on the seed's side of an automatic threshold.

    Parameters
    ----------
    inp : BrushInput
        ROI (k, j, i), seed, brush and parameters (``threshold_method``, ...).

    Returns
    -------
    ndarray of bool, shape (k, j, i)
        Selected voxels (post-processing keeps the part connected to the seed).
    """
    values = inp.image[inp.brush]
    if float(values.max()) <= float(values.min()):
        return np.array(inp.brush, copy=True)
    seed_value = _seed_value(inp)
    threshold = histogram_threshold(
        values, inp.params["threshold_method"], inp.params["threshold_histogram_bins"]
    )
    threshold = shifted_threshold(threshold, seed_value, inp.params["edge_sensitivity"])
    logger.debug(
        "threshold %s: %.1f (seed %.1f)", inp.params["threshold_method"], threshold, seed_value
    )
    if seed_value >= threshold:
        selected = np.asarray(inp.image >= threshold)
    else:
        selected = np.asarray(inp.image < threshold)
    # The user pointed at this voxel: keep it even when noise puts it across the threshold,
    # so post-processing still finds the seed's component.
    selected[inp.seed] = True
    return selected


ALGORITHM = Algorithm(
    name=NAME,
    label="Threshold brush",
    run=threshold_brush,
    parameters=PARAMETERS,
)
