"""Intensity statistics sampled around the seed.

The sampled zone is the part of the brush within ``threshold_zone`` % of the radius from
the seed, and never fewer than the ``MIN_ZONE_VOXELS`` brush voxels nearest the seed: a
zone radius below one voxel (a 6 mm brush on 3 mm voxels samples 3 mm) would hold the seed
alone, with a standard deviation of zero and a brush that takes only the seed. In a zone
so extended, values far from the zone's median are left out (a neighbour across an edge).
Voxels outside the brush, among them a float volume's non-finite ones (see ``brush.py``),
are never sampled. Four ways to turn the zone into an accepted range [low, high] (image
units):

- ``mean_std``: mean +/- ``std_multiplier`` * std of the zone;
- ``percentile``: the zone's ``percentile_low`` and ``percentile_high`` percentiles;
- ``min_max``: the zone's smallest and largest values;
- ``gmm``: a 1-D Gaussian mixture of ``gmm_components`` components is fitted to the zone
  and the component the seed's intensity most likely belongs to gives mean +/-
  ``std_multiplier`` * std, so a zone that straddles an edge still yields the seed's tissue.

Edge sensitivity then scales the half-width of the range around its centre: x1.5 at 0 %,
x1/3 at 100 % (see ``sensitivity_scale``). Finally the range is stretched, if needed, to
hold the seed's own intensity (median of its 3x3x3 neighbourhood).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .algorithms.base import IntensityStats

logger = logging.getLogger(__name__)

# Histogram bins the mixture is fitted on: EM over bin centres weighted by counts costs the
# same for 50 or 500,000 sampled voxels, and 256 bins resolve CT noise (a few HU) well.
GMM_BINS = 256
GMM_MAX_ITERATIONS = 200
GMM_TOLERANCE = 1e-7
# Components closer than this many pooled standard deviations are one tissue: two halves
# of one Gaussian lie about 2.7 apart, two tissues with a visible edge well beyond 3.
GMM_MERGE_DISTANCE = 3.0

# Fewest voxels a sampled zone holds (the seed and its six face neighbours in 3D): a zone
# radius below one voxel (a 6 mm brush on 3 mm voxels samples 3 mm) held the seed alone,
# a standard deviation of zero, and the brush took only the seed.
MIN_ZONE_VOXELS = 7

# An extended zone is a handful of voxels that cannot tell an edge from noise by its
# spread: one neighbour across an edge would set the range alone, so values further than
# OUTLIER_SDS robust standard deviations from the zone's median are left out.
OUTLIER_SDS = 3.0


@dataclass(frozen=True)
class Mixture:
    """A 1-D Gaussian mixture: component weights, means and standard deviations (arrays)."""

    weights: np.ndarray
    means: np.ndarray
    stds: np.ndarray

    def responsibilities(self, values: np.ndarray) -> np.ndarray:
        """Posterior probability of each component (rows) for each value (columns)."""
        log_p = _component_log_density(np.asarray(values, dtype=np.float64), self)
        log_p -= log_p.max(axis=0, keepdims=True)
        p = np.exp(log_p)
        return np.asarray(p / p.sum(axis=0, keepdims=True))

    def component_of(self, value: float) -> int:
        """Index of the component ``value`` most likely belongs to."""
        return int(np.argmax(self.responsibilities(np.array([value]))[:, 0]))


def sensitivity_scale(edge_sensitivity: float) -> float:
    """Factor applied to the half-width of the accepted range: 1.5 at 0 %, 1/3 at 100 %."""
    fraction = min(max(edge_sensitivity, 0.0), 100.0) / 100.0
    return float(1.5 * (1.0 / 4.5) ** fraction)


def sampling_zone(
    brush: np.ndarray,
    seed: tuple[int, int, int],
    spacing: tuple[float, float, float],
    radius_mm: float,
    zone_percent: float,
) -> np.ndarray:
    """Bool (k, j, i) mask of brush voxels within ``zone_percent`` of the radius of the seed.

    Distances are in mm with the real (k, j, i) spacing; the seed voxel is always included.
    A zone of fewer than ``MIN_ZONE_VOXELS`` voxels is extended to the brush voxels nearest
    the seed, up to that many and every voxel tied with the last, or the whole brush if
    it is smaller.
    """
    return _zone(brush, seed, spacing, radius_mm * zone_percent / 100.0)[0]


def _zone(
    brush: np.ndarray,
    seed: tuple[int, int, int],
    spacing: tuple[float, float, float],
    zone_radius: float,
) -> tuple[np.ndarray, bool]:
    """``sampling_zone`` for a zone radius in mm, and whether the zone had to be extended."""
    axes = [
        ((np.arange(n, dtype=np.float64) - s) * d) ** 2
        for n, s, d in zip(brush.shape, seed, spacing, strict=True)
    ]
    distance2 = axes[0][:, None, None] + axes[1][None, :, None] + axes[2][None, None, :]
    zone = (distance2 <= zone_radius**2) & brush
    zone[seed] = True
    if np.count_nonzero(zone) < MIN_ZONE_VOXELS:
        return _nearest_voxels(distance2, brush, seed), True
    return zone, False


def _nearest_voxels(
    distance2: np.ndarray, brush: np.ndarray, seed: tuple[int, int, int]
) -> np.ndarray:
    """The ``MIN_ZONE_VOXELS`` brush voxels nearest the seed, ties included, and the seed."""
    in_brush = distance2[brush]
    count = min(MIN_ZONE_VOXELS, in_brush.size)
    limit = np.partition(in_brush, count - 1)[count - 1] if count else 0.0
    zone = (distance2 <= limit) & brush
    zone[seed] = True
    return zone


def without_outliers(values: np.ndarray) -> np.ndarray:
    """``values`` less those more than ``OUTLIER_SDS`` robust standard deviations
    (1.4826 x the median absolute deviation) from their median; all equal to the median
    when that deviation is zero."""
    median = float(np.median(values))
    deviation = np.abs(values - median)
    robust_sd = 1.4826 * float(np.median(deviation))
    return values[deviation <= OUTLIER_SDS * robust_sd]


def seed_intensity(roi: np.ndarray, brush: np.ndarray, seed: tuple[int, int, int]) -> float:
    """Median of the seed's 3x3x3 neighbourhood inside the brush (one noisy voxel is ignored)."""
    window = tuple(slice(max(s - 1, 0), s + 2) for s in seed)
    values = roi[window][brush[window]]
    return float(np.median(values)) if values.size else float(roi[seed])


def sample_intensities(
    roi: np.ndarray,
    brush: np.ndarray,
    seed: tuple[int, int, int],
    spacing: tuple[float, float, float],
    params: Mapping[str, Any],
) -> IntensityStats:
    """Accepted intensity range and population statistics around the seed.

    Parameters
    ----------
    roi : ndarray, (k, j, i)
        Image intensities of the ROI.
    brush : ndarray of bool, (k, j, i)
        Brush mask over the ROI.
    seed : tuple of int
        (k, j, i) seed index in the ROI.
    spacing : tuple of float
        Voxel size in mm along (k, j, i).
    params : Mapping
        Validated parameters (``sampling_method``, ``threshold_zone``, ``std_multiplier``,
        ``percentile_low``, ``percentile_high``, ``gmm_components``, ``edge_sensitivity``,
        ``brush_radius_mm``).

    Returns
    -------
    IntensityStats
        ``low``/``high`` after the sensitivity scaling; ``mean``/``std`` of the zone, or of
        the chosen component for ``gmm``.
    """
    zone_radius = params["brush_radius_mm"] * params["threshold_zone"] / 100.0
    zone, extended = _zone(brush, seed, spacing, zone_radius)
    values = roi[zone].astype(np.float64)
    if extended:
        # The extension reaches beyond the zone the user asked for, maybe across an edge.
        values = without_outliers(values)
    at_seed = seed_intensity(roi, brush, seed)
    method = params["sampling_method"]
    if method == "gmm":
        low, high, mean, std = _gmm_range(values, at_seed, params)
    else:
        mean, std = float(values.mean()), float(values.std())
        low, high = _plain_range(values, mean, std, method, params)
    scale = sensitivity_scale(params["edge_sensitivity"])
    centre, half_width = 0.5 * (low + high), 0.5 * (high - low) * scale
    # The tissue under the cursor is what the user asks for: when a zone dominated by other
    # tissue puts the seed's own intensity outside the range, stretch the range to it.
    low, high = min(centre - half_width, at_seed), max(centre + half_width, at_seed)
    return IntensityStats(low=low, high=high, mean=mean, std=std)


def _plain_range(
    values: np.ndarray, mean: float, std: float, method: str, params: Mapping[str, Any]
) -> tuple[float, float]:
    """[low, high] for ``mean_std``, ``percentile`` and ``min_max`` (before scaling)."""
    if method == "min_max":
        return float(values.min()), float(values.max())
    if method == "percentile":
        # Accept the two percentiles in either order rather than produce an empty range.
        first, second = sorted((params["percentile_low"], params["percentile_high"]))
        low, high = np.percentile(values, [first, second])
        return float(low), float(high)
    half = max(params["std_multiplier"] * std, 1e-6)
    return mean - half, mean + half


def _gmm_range(
    values: np.ndarray, seed_value: float, params: Mapping[str, Any]
) -> tuple[float, float, float, float]:
    """(low, high, mean, std) of the mixture component holding ``seed_value``.

    Components that overlap the chosen one are merged with it first (see
    ``merged_component``): more components than tissues split one tissue into narrow
    slices, and a range built from one slice would stop the brush on noise.
    """
    mixture = fit_gmm(values, int(params["gmm_components"]))
    chosen = mixture.component_of(seed_value)
    mean, std = merged_component(mixture, chosen)
    logger.debug("gmm: component %d of %s (seed %.1f)", chosen, mixture.means, seed_value)
    half = max(params["std_multiplier"] * std, 1e-6)
    return mean - half, mean + half, mean, std


def merged_component(mixture: Mixture, chosen: int) -> tuple[float, float]:
    """Mean and std of ``chosen`` together with every component it does not separate from.

    A component joins when its mean lies within ``GMM_MERGE_DISTANCE`` pooled standard
    deviations of the group's; repeated until no more join. Moments are those of the
    weighted sub-mixture.
    """
    group = [chosen]
    while True:
        weights = mixture.weights[group]
        mean = float(np.average(mixture.means[group], weights=weights))
        second = np.average(mixture.stds[group] ** 2 + mixture.means[group] ** 2, weights=weights)
        std = float(np.sqrt(max(float(second) - mean * mean, 0.0)))
        joining = [
            c
            for c in range(mixture.means.size)
            if c not in group
            and abs(float(mixture.means[c]) - mean)
            < GMM_MERGE_DISTANCE * np.sqrt(0.5 * (std**2 + float(mixture.stds[c]) ** 2))
        ]
        if not joining:
            return mean, std
        group.extend(joining)


def fit_gmm(values: np.ndarray, components: int) -> Mixture:
    """Fit a 1-D Gaussian mixture to ``values`` by expectation-maximisation.

    Deterministic: the fit runs on a fixed histogram of ``GMM_BINS`` bins, means start
    evenly spaced over the 1st..99th percentile range with widths of one spacing, weights
    equal. Fewer distinct values than components gives one
    component per distinct value.

    Parameters
    ----------
    values : ndarray
        Sampled intensities (any shape; image units).
    components : int
        Number of Gaussian components, at least 1.
    """
    values = np.asarray(values, dtype=np.float64).ravel()
    distinct = np.unique(values)
    if distinct.size <= components:
        return _degenerate_mixture(values, distinct)
    centres, counts, width = _histogram(values)
    mixture = _initial_mixture(values, components)
    floor = max(width * width / 12.0, 1e-12)
    previous = -np.inf
    for _ in range(GMM_MAX_ITERATIONS):
        log_p = _component_log_density(centres, mixture)
        top = log_p.max(axis=0, keepdims=True)
        likelihood = top[0] + np.log(np.exp(log_p - top).sum(axis=0))
        total = float(np.dot(counts, likelihood))
        mixture = _maximise(centres, counts, np.exp(log_p - likelihood), floor)
        if total - previous <= GMM_TOLERANCE * abs(total):
            break
        previous = total
    return mixture


def _histogram(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Centres and counts of the non-empty bins, and the bin width."""
    counts, edges = np.histogram(values, bins=GMM_BINS)
    centres = 0.5 * (edges[:-1] + edges[1:])
    present = counts > 0
    return centres[present], counts[present].astype(np.float64), float(edges[1] - edges[0])


def _initial_mixture(values: np.ndarray, components: int) -> Mixture:
    """Means evenly spaced over the 1st..99th percentile, equal widths and weights.

    Spacing over the range rather than at quantiles keeps a dominant tissue from taking
    several components while a small one (the seed's lesion) is merged with a third.
    """
    first, last = np.percentile(values, [1.0, 99.0])
    if last <= first:
        first, last = float(values.min()), float(values.max())
    step = (float(last) - float(first)) / components
    means = float(first) + step * (np.arange(components) + 0.5)
    return Mixture(
        weights=np.full(components, 1.0 / components),
        means=means,
        stds=np.full(components, max(step, 1e-6)),
    )


def _component_log_density(values: np.ndarray, mixture: Mixture) -> np.ndarray:
    """log(weight * N(value | mean, std)), shape (components, values)."""
    z = (values[None, :] - mixture.means[:, None]) / mixture.stds[:, None]
    log_norm = np.log(mixture.weights) - np.log(mixture.stds) - 0.5 * np.log(2.0 * np.pi)
    return np.asarray(log_norm[:, None] - 0.5 * z * z)


def _maximise(
    centres: np.ndarray, counts: np.ndarray, responsibility: np.ndarray, var_floor: float
) -> Mixture:
    """M-step: weighted means, variances (floored) and weights from the responsibilities."""
    mass = responsibility * counts[None, :]
    totals = np.maximum(mass.sum(axis=1), 1e-12)
    means = (mass @ centres) / totals
    variances = (mass * (centres[None, :] - means[:, None]) ** 2).sum(axis=1) / totals
    return Mixture(
        weights=totals / totals.sum(),
        means=means,
        stds=np.sqrt(np.maximum(variances, var_floor)),
    )


def _degenerate_mixture(values: np.ndarray, distinct: np.ndarray) -> Mixture:
    """One narrow component per distinct value, weighted by how often it occurs."""
    counts = np.array([np.count_nonzero(values == v) for v in distinct], dtype=np.float64)
    gaps = np.diff(distinct)
    narrow = 0.25 * float(gaps.min()) if gaps.size else 1e-6
    return Mixture(
        weights=counts / counts.sum(),
        means=distinct.astype(np.float64),
        stds=np.full(distinct.size, max(narrow, 1e-6)),
    )
