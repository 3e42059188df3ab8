"""Image features shared by several algorithms: edge strength and intensity fit.

All functions work on arrays of any dimension (the work grid drops flat axes) and are
plain numpy: for brush-sized ROIs a numpy gradient costs a fraction of a millisecond where
SimpleITK's recursive Gaussian filters cost several (see docs/algorithms.md).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import SimpleITK as sitk

from .base import IntensityStats


def smooth(image: np.ndarray) -> np.ndarray:
    """Binomial [1, 2, 1] / 4 smoothing along every axis longer than two voxels.

    About a Gaussian of sigma 0.7 voxel: enough to keep single-voxel noise from reading
    as edges while an edge one voxel wide stays sharp. Borders keep their values.
    """
    out = np.array(image, dtype=np.float32, copy=True)
    for axis in range(out.ndim):
        if out.shape[axis] < 3:
            continue
        view = np.moveaxis(out, axis, 0)
        centre = view[1:-1] * 0.5 + (view[:-2] + view[2:]) * 0.25
        view[1:-1] = centre
    return out


def gradient_magnitude(image: np.ndarray) -> np.ndarray:
    """Magnitude of the intensity change per voxel step (image units), after ``smooth``.

    Per voxel rather than per mm on purpose: an edge between two thick slices is as much an
    edge as one between two in-plane neighbours. Axes of length one contribute nothing.
    """
    smoothed = smooth(image)
    total = np.zeros(smoothed.shape, dtype=np.float32)
    for axis in range(smoothed.ndim):
        if smoothed.shape[axis] < 2:
            continue
        step = np.gradient(smoothed, axis=axis)
        total += step * step
    return np.sqrt(total, out=total)


def contrast_scale(stats: IntensityStats) -> float:
    """Half the accepted intensity range (image units), never zero.

    Edge sensitivity already narrows this range (``sampling.sensitivity_scale``), so every
    feature normalised by it gets stricter as sensitivity rises.
    """
    half = 0.5 * (float(stats.high) - float(stats.low))
    floor = max(1e-6, 1e-3 * abs(float(stats.mean)))
    return max(half, floor)


def sensitivity_gain(edge_sensitivity: float) -> float:
    """Factor by which edges weigh more than at the default sensitivity (40 %).

    0 % -> 0.25, 40 % -> 1, 100 % -> 8: doubles every 20 points.
    """
    return float(2.0 ** ((float(edge_sensitivity) - 40.0) / 20.0))


def edge_speed(gradient: np.ndarray, scale: float, gain: float) -> np.ndarray:
    """Speed in (0, 1]: 1 on flat tissue, falling as 1 / (1 + (gain * g / scale)^2) at edges."""
    ratio = gradient * np.float32(gain / scale)
    return np.reciprocal(1.0 + ratio * ratio, dtype=np.float32)


def outside_range(image: np.ndarray, stats: IntensityStats) -> np.ndarray:
    """How far each intensity lies outside [low, high], in units of ``contrast_scale``."""
    scale = np.float32(contrast_scale(stats))
    below = (np.float32(stats.low) - image) / scale
    above = (image - np.float32(stats.high)) / scale
    return np.maximum(np.maximum(below, above), np.float32(0.0))


def intensity_speed(image: np.ndarray, stats: IntensityStats, weight: float) -> np.ndarray:
    """Speed in (0, 1]: 1 inside the accepted range, Gaussian fall-off outside it.

    ``weight`` 0 disables the term; at 1 a voxel one half-range outside moves at e^-4.
    """
    distance = outside_range(image, stats) * np.float32(2.0 * weight)
    return np.exp(-(distance * distance), dtype=np.float32)


def grow_into_range(
    mask: np.ndarray, image: np.ndarray, stats: IntensityStats, steps: int = 1
) -> np.ndarray:
    """Add face neighbours of ``mask`` whose intensity is in [low, high], ``steps`` times.

    Gradient-based speeds stall the front one voxel short of an edge, because a central
    difference marks the voxels on both sides of it; this step recovers the inner one.
    """
    grown = np.array(mask, dtype=bool, copy=True)
    in_range = (image >= stats.low) & (image <= stats.high)
    for _ in range(steps):
        grown = face_neighbours(grown) & (in_range | grown)
    return grown


def seed_ball(
    shape: tuple[int, ...], seed: tuple[int, ...], spacing: tuple[float, ...], radius_mm: float
) -> np.ndarray:
    """Bool mask of voxels within ``radius_mm`` of the seed voxel (always holds the seed)."""
    distance2 = np.zeros(shape, dtype=np.float32)
    for axis, (length, centre, step) in enumerate(zip(shape, seed, spacing, strict=True)):
        offsets = (np.arange(length, dtype=np.float32) - centre) * np.float32(step)
        view = [1] * len(shape)
        view[axis] = length
        distance2 = distance2 + (offsets * offsets).reshape(view)
    ball = distance2 <= np.float32(radius_mm * radius_mm)
    ball[seed] = True
    return ball


def seed_marker(
    image: np.ndarray,
    stats: IntensityStats,
    seed: tuple[int, ...],
    spacing: tuple[float, ...],
    radius_mm: float,
) -> np.ndarray:
    """Voxels near the seed (within ``radius_mm``) that lie in the accepted range, and the seed.

    Used as the object label of marker-based methods: small enough to sit inside the
    structure, restricted to its intensities so it never straddles an edge.
    """
    ball = seed_ball(image.shape, seed, spacing, radius_mm)
    marker = ball & (image >= stats.low) & (image <= stats.high)
    marker[seed] = True
    return marker


def unlike_seed(image: np.ndarray, stats: IntensityStats, margin: float) -> np.ndarray:
    """Voxels lying more than ``margin`` half-ranges outside [low, high], raw and smoothed.

    Used as the background label of marker-based methods. The raw test keeps smoothing
    from dragging the object's own rim voxels into the background; the smoothed test keeps
    single noisy voxels inside the object out of it.
    """
    limit = np.float32(margin)
    return (outside_range(image, stats) > limit) & (outside_range(smooth(image), stats) > limit)


def face_neighbours(mask: np.ndarray) -> np.ndarray:
    """``mask`` plus every voxel sharing a face with it (one step of 6- or 4-dilation)."""
    grown = np.array(mask, dtype=bool, copy=True)
    for axis in range(mask.ndim):
        lead = [slice(None)] * mask.ndim
        trail = [slice(None)] * mask.ndim
        lead[axis], trail[axis] = slice(1, None), slice(None, -1)
        grown[tuple(lead)] |= mask[tuple(trail)]
        grown[tuple(trail)] |= mask[tuple(lead)]
    return grown


def erode_faces(mask: np.ndarray, steps: int) -> np.ndarray:
    """``mask`` minus every voxel within ``steps`` face steps of its outside."""
    eroded = np.asarray(mask, dtype=bool)
    for _ in range(steps):
        eroded = ~face_neighbours(~eroded)
    return eroded


def in_range_region(
    image: np.ndarray, stats: IntensityStats, seed: tuple[int, ...], to_sitk: Any
) -> np.ndarray:
    """Face-connected region of smoothed intensities in [low, high] holding the seed."""
    smoothed = to_sitk(smooth(image))
    region = sitk.ConnectedThreshold(
        smoothed,
        seedList=[[int(v) for v in seed[::-1]]],
        lower=float(stats.low),
        upper=float(stats.high),
    )
    return sitk.GetArrayViewFromImage(region) > 0
