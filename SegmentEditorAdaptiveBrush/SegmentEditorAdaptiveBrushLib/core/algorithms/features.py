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

# A clear edge is this many times the median gradient of tissue like the seed's...
EDGE_RATIO = 4.0
# ...and at least this many half-widths of the sampled range.
EDGE_FLOOR = 0.05

# -ln(0.3): the intensity speed at the ends of the accepted range is 0.3.
INTENSITY_FALLOFF = 1.2

# Axes whose spacing is at most this multiple of the finest count as thin (see
# grow_into_range).
THIN_AXIS_RATIO = 4.0


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


def edge_scale(
    gradient: np.ndarray, smoothed: np.ndarray, stats: IntensityStats, brush: np.ndarray
) -> float:
    """Gradient (image units per voxel) that counts as a clear edge near the seed.

    ``EDGE_RATIO`` times the median gradient over the brush's in-range voxels, i.e. the
    texture of tissue like the seed's; the sampled range would be a poorer yardstick,
    since a zone that touches an edge inflates it. Never below ``EDGE_FLOOR`` half-widths,
    so noise-free images still have a finite scale.
    """
    like_seed = brush & (smoothed >= stats.low) & (smoothed <= stats.high)
    texture = float(np.median(gradient[like_seed])) if like_seed.any() else 0.0
    return max(EDGE_RATIO * texture, EDGE_FLOOR * contrast_scale(stats))


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
    """Speed in (0, 1]: a Gaussian of the distance to the centre of the accepted range.

    Distances are in half-widths of the range; at ``weight`` 1 the speed is 0.3 at the
    range's ends and below 0.01 one half-width beyond them. ``weight`` 0 disables the term.
    """
    centre = np.float32(0.5 * (float(stats.low) + float(stats.high)))
    distance = (image - centre) * np.float32(1.0 / contrast_scale(stats))
    return np.exp(distance * distance * np.float32(-INTENSITY_FALLOFF * weight), dtype=np.float32)


def grow_into_range(
    mask: np.ndarray,
    image: np.ndarray,
    stats: IntensityStats,
    spacing: tuple[float, ...],
    steps: int = 1,
) -> np.ndarray:
    """Add neighbours of ``mask`` whose intensity is in [low, high], ``steps`` times.

    Gradient-based speeds stall the front a voxel short of an edge, because a central
    difference (after smoothing) marks the voxels on both sides of it; this recovers them.
    Only along thin axes (spacing at most twice the finest): across 5 mm slices one step
    would add a whole partial-volume slice.
    """
    axes = thin_axes(spacing)
    grown = np.array(mask, dtype=bool, copy=True)
    in_range = (image >= stats.low) & (image <= stats.high)
    for _ in range(steps):
        grown = face_neighbours(grown, axes) & (in_range | grown)
    return grown


def seed_median(image: np.ndarray, brush: np.ndarray, seed: tuple[int, ...]) -> float:
    """Median of ``image`` over the seed's 3x3(x3) neighbourhood, brush voxels only.

    Voxels outside the brush do not count: among them are the non-finite voxels of a float
    volume, which the algorithms see as intensities far below the range (``brush.py``).
    """
    window = tuple(slice(max(s - 1, 0), s + 2) for s in seed)
    values = image[window][brush[window]]
    return float(np.median(values)) if values.size else float(image[seed])


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
    structure, restricted to its intensities so it never straddles an edge. The radius is
    at least one finest voxel: in a brush a few voxels across a marker of the seed alone,
    lying on the gradient next to a vessel, lost every other voxel to the background.
    """
    ball = seed_ball(image.shape, seed, spacing, max(radius_mm, min(spacing)))
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


def face_neighbours(mask: np.ndarray, axes: tuple[int, ...] | None = None) -> np.ndarray:
    """``mask`` plus every voxel sharing a face with it along ``axes`` (default: all)."""
    grown = np.array(mask, dtype=bool, copy=True)
    for axis in range(mask.ndim) if axes is None else axes:
        lead = [slice(None)] * mask.ndim
        trail = [slice(None)] * mask.ndim
        lead[axis], trail[axis] = slice(1, None), slice(None, -1)
        grown[tuple(lead)] |= mask[tuple(trail)]
        grown[tuple(trail)] |= mask[tuple(lead)]
    return grown


def thin_axes(spacing: tuple[float, ...]) -> tuple[int, ...]:
    """Axes whose spacing is at most ``THIN_AXIS_RATIO`` times the finest one."""
    finest = min(spacing)
    return tuple(a for a, step in enumerate(spacing) if step <= THIN_AXIS_RATIO * finest)


def erode_faces(mask: np.ndarray, steps: int, axes: tuple[int, ...] | None = None) -> np.ndarray:
    """``mask`` minus every voxel within ``steps`` face steps (along ``axes``) of its outside."""
    eroded = np.asarray(mask, dtype=bool)
    for _ in range(steps):
        eroded = ~face_neighbours(~eroded, axes)
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
