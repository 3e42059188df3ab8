"""Intensity statistics sampled around the seed.

The sampled zone is the part of the brush within ``threshold_zone`` % of the radius from
the seed. Edge sensitivity narrows the accepted range: at 0 the range is widened by half,
at 100 it is narrowed to a third (see ``sensitivity_scale``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .algorithms.base import IntensityStats


def sensitivity_scale(edge_sensitivity: float) -> float:
    """Factor applied to the half-width of the accepted range: 1.5 at 0 %, 1/3 at 100 %."""
    fraction = min(max(edge_sensitivity, 0.0), 100.0) / 100.0
    return float(1.5 * (1.0 / 4.5) ** fraction)


def sampling_zone(
    brush: np.ndarray, seed: tuple[int, int, int], spacing: tuple[float, float, float],
    radius_mm: float, zone_percent: float,
) -> np.ndarray:
    """Bool (k, j, i) mask of brush voxels within ``zone_percent`` of the radius of the seed."""
    zone_radius = radius_mm * zone_percent / 100.0
    axes = [
        (np.arange(n, dtype=np.float64) - s) * d
        for n, s, d in zip(brush.shape, seed, spacing, strict=True)
    ]
    distance2 = axes[0][:, None, None] ** 2 + axes[1][None, :, None] ** 2 + axes[2][None, None, :] ** 2
    zone = (distance2 <= zone_radius**2) & brush
    zone[seed] = True
    return zone


def sample_intensities(
    roi: np.ndarray, brush: np.ndarray, seed: tuple[int, int, int],
    spacing: tuple[float, float, float], params: Mapping[str, Any],
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
        Validated parameters (``sampling_method``, ``threshold_zone``, ...).
    """
    zone = sampling_zone(brush, seed, spacing, params["brush_radius_mm"], params["threshold_zone"])
    values = roi[zone].astype(np.float64)
    mean, std = float(values.mean()), float(values.std())
    scale = sensitivity_scale(params["edge_sensitivity"])
    method = params["sampling_method"]
    if method == "min_max":
        low, high = float(values.min()), float(values.max())
    elif method == "percentile":
        low = float(np.percentile(values, params["percentile_low"]))
        high = float(np.percentile(values, params["percentile_high"]))
    else:
        half = max(params["std_multiplier"] * std, 1e-6)
        low, high = mean - half, mean + half
    centre, half_width = 0.5 * (low + high), 0.5 * (high - low) * scale
    return IntensityStats(low=centre - half_width, high=centre + half_width, mean=mean, std=std)
