"""Threshold brush: an automatic histogram threshold over the brush, on the seed's side.

The threshold is computed by one of SimpleITK's histogram methods from the intensities
inside the brush; the voxels on the same side as the seed's neighbourhood are kept (the
polarity follows the seed). When the seed's side still holds two classes it is split again,
up to three times. A split is only accepted when the two sides are separated by enough
pooled standard deviations; edge sensitivity sets that requirement (at the default 40 %:
3 for the first split, 5 for further ones; lower, so a stricter brush, at higher
sensitivity). A brush of fewer than ``MIN_VALUES`` voxels (1-2 mm, or a 2D brush across
thick slices) is split once at most, and only at the stricter separation.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import SimpleITK as sitk

from ..paramspec import ParamSpec
from .base import Algorithm, BrushInput
from .features import sensitivity_gain

logger = logging.getLogger(__name__)

NAME = "threshold_brush"

# At most this many nested splits: enough for a lesion, an organ and air in one brush.
MAX_SPLITS = 3

# A class needs this many voxels before it is split again.
MIN_VALUES = 16

FIRST_SEPARATION = 3.0
FURTHER_SEPARATION = 5.0

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


def separation(upper: np.ndarray, lower: np.ndarray) -> float:
    """Distance between two classes' means in pooled standard deviations (Cohen's d)."""
    pooled = np.sqrt(0.5 * (float(upper.var()) + float(lower.var())))
    return float(upper.mean() - lower.mean()) / max(pooled, 1e-6)


def required_separation(edge_sensitivity: float, first: bool) -> float:
    """Separation a split needs to count as an edge, in pooled standard deviations.

    The first split needs 3 at the default sensitivity (40 %): splitting one Gaussian at
    its mean gives two halves 2.7 apart, so uniform noisy tissue is left whole. Further
    splits need 5: a skewed lesion (partial-volume tail) splits at 3.5-3.8, a real third
    tissue far higher. Both shrink by gain ** 0.25 (x0.59 at 100 %, x1.41 at 0 %), so from
    about 60 % sensitivity on, uniform tissue may be split too.
    """
    base = FIRST_SEPARATION if first else FURTHER_SEPARATION
    return base / float(sensitivity_gain(edge_sensitivity)) ** 0.25


def seed_interval(
    values: np.ndarray, seed_value: float, params: Mapping[str, Any]
) -> tuple[float, float]:
    """Intensity interval [low, high) around ``seed_value`` left after the accepted splits.

    The brush may hold more than two classes (a bright lesion touching a darker organ, in
    air): each pass thresholds what is left on the seed's side and keeps the split only if
    the two sides are separated enough, so the interval narrows to the seed's own class.
    A class of fewer than ``MIN_VALUES`` values is not split again; a whole brush that
    small (1-2 mm, or a 2D brush across thick slices) is split once, at the stricter
    separation of further splits.
    """
    low, high = -np.inf, np.inf
    for split in range(MAX_SPLITS):
        current = values[(values >= low) & (values < high)]
        few = current.size < MIN_VALUES
        if (few and split > 0) or current.size < 2 or current.max() <= current.min():
            break
        # A brush of a few voxels is split once, and only at a gap wide enough that a
        # handful of noisy values would hardly show it by chance.
        needed = required_separation(params["edge_sensitivity"], first=split == 0 and not few)
        threshold = histogram_threshold(
            current, params["threshold_method"], params["threshold_histogram_bins"]
        )
        upper, lower = current[current >= threshold], current[current < threshold]
        if upper.size == 0 or lower.size == 0 or separation(upper, lower) < needed:
            break
        if seed_value >= threshold:
            low = threshold
        else:
            high = threshold
    return low, high


def _seed_value(inp: BrushInput) -> float:
    """Median of the seed's 3x3x3 neighbourhood in the brush: one noisy voxel must not flip
    the side, and voxels left out of the brush (non-finite ones) must not count."""
    window = tuple(slice(max(s - 1, 0), s + 2) for s in inp.seed)
    return float(np.median(inp.image[window][inp.brush[window]]))


def threshold_brush(inp: BrushInput) -> np.ndarray:
    """Voxels of the ROI in the seed's intensity class.

    Parameters
    ----------
    inp : BrushInput
        ROI (k, j, i), seed, brush and parameters (``threshold_method``, ...).

    Returns
    -------
    ndarray of bool, shape (k, j, i)
        Selected voxels (post-processing keeps the part connected to the seed).
    """
    low, high = seed_interval(inp.image[inp.brush], _seed_value(inp), inp.params)
    logger.debug("threshold %s: [%.1f, %.1f)", inp.params["threshold_method"], low, high)
    selected = np.asarray((inp.image >= low) & (inp.image < high))
    # The user pointed at this voxel: keep it even when noise puts it across a threshold,
    # so post-processing still finds the seed's component.
    selected[inp.seed] = True
    return selected


ALGORITHM = Algorithm(
    name=NAME,
    label="Threshold brush",
    run=threshold_brush,
    parameters=PARAMETERS,
)
