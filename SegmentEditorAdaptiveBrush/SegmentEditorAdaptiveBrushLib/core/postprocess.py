"""Post-processing of a brush result: closing, the seed's component, hole filling.

Everything runs on the bounding box of the result (plus what closing needs), with flat
axes dropped: a 2D brush's result is one slice thick, and in 3D every voxel of a one-slice
image touches the border, so no hole could ever be found there.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import SimpleITK as sitk
from scipy import ndimage

logger = logging.getLogger(__name__)


def postprocess(
    mask: np.ndarray,
    seed: tuple[int, int, int],
    spacing: tuple[float, float, float],
    params: Mapping[str, Any],
) -> np.ndarray:
    """Apply closing, seed-component selection and hole filling as the parameters ask.

    Parameters
    ----------
    mask : ndarray of bool, shape (k, j, i)
        Algorithm result over the ROI.
    seed : tuple of int
        (k, j, i) seed index in the ROI.
    spacing : tuple of float
        Voxel size in mm along (k, j, i).
    params : Mapping
        Validated parameters: ``closing_radius_mm`` (mm), ``keep_seed_component`` and
        ``fill_holes``.

    Returns
    -------
    ndarray of bool, shape (k, j, i)
        A new mask; the input is not modified. When the seed voxel is not selected the
        seed-component step is skipped (there is no component to choose) and logged.
    """
    result = np.zeros(mask.shape, dtype=bool)
    if not mask.any():
        return result
    closing = _closing_radius(params["closing_radius_mm"], spacing, mask.shape)
    box = _bounding_box(mask, closing)
    local_seed = tuple(s - b.start for s, b in zip(seed, box, strict=True))
    result[box] = _process_box(np.asarray(mask[box], dtype=bool), local_seed, closing, params)
    return result


def _process_box(
    box: np.ndarray,
    seed: tuple[int, ...],
    closing: tuple[int, int, int],
    params: Mapping[str, Any],
) -> np.ndarray:
    """Post-process a cropped (k, j, i) mask; ``seed`` may lie outside the box."""
    kept = _kept_axes(box.shape)
    work = box.reshape([box.shape[axis] for axis in kept])
    if any(closing):
        work = _close(work, tuple(closing[a] for a in kept))
    seed_kept = tuple(seed[a] for a in kept)
    seed_inside = all(0 <= s < n for s, n in zip(seed_kept, work.shape, strict=True))
    if params["keep_seed_component"]:
        if seed_inside and work[seed_kept]:
            work = _component_at(work, seed_kept)
        else:
            logger.debug("seed voxel not selected: keeping every component")
    if params["fill_holes"]:
        work = _fill_holes(work)
    return work.reshape(box.shape)


def _kept_axes(shape: tuple[int, ...]) -> tuple[int, ...]:
    """Axes longer than one voxel, topped up with flat ones: SimpleITK needs two or three."""
    kept = [axis for axis in range(3) if shape[axis] > 1]
    for axis in range(3):
        if len(kept) >= 2:
            break
        if axis not in kept:
            kept.append(axis)
    return tuple(sorted(kept))


def _closing_radius(
    radius_mm: float, spacing: tuple[float, float, float], shape: tuple[int, ...]
) -> tuple[int, int, int]:
    """Closing radius in voxels along (k, j, i); zero along flat axes and below half a voxel."""
    radius = [
        int(round(radius_mm / d)) if n > 1 else 0 for d, n in zip(spacing, shape, strict=True)
    ]
    return (radius[0], radius[1], radius[2])


def _bounding_box(mask: np.ndarray, margin: tuple[int, int, int]) -> tuple[slice, slice, slice]:
    """Slices (k, j, i) of the selected voxels' bounding box grown by ``margin``, clipped."""
    bounds = []
    for axis in range(3):
        others = tuple(a for a in range(3) if a != axis)
        present = np.flatnonzero(mask.any(axis=others))
        low = max(int(present[0]) - margin[axis], 0)
        high = min(int(present[-1]) + 1 + margin[axis], mask.shape[axis])
        bounds.append(slice(low, high))
    return (bounds[0], bounds[1], bounds[2])


def _to_image(mask: np.ndarray) -> sitk.Image:
    return sitk.GetImageFromArray(np.ascontiguousarray(mask, dtype=np.uint8))


def _close(mask: np.ndarray, radius: tuple[int, ...]) -> np.ndarray:
    """Binary closing with an ellipsoid of ``radius`` voxels per numpy axis."""
    radius_xyz = [int(r) for r in radius[::-1]]
    closed = sitk.BinaryMorphologicalClosing(_to_image(mask), radius_xyz, sitk.sitkBall)
    return sitk.GetArrayViewFromImage(closed) > 0


def _component_at(mask: np.ndarray, seed: tuple[int, ...]) -> np.ndarray:
    """The 26-connected (8 in 2D) component of ``mask`` that holds ``seed``.

    scipy's labelling is several times faster than SimpleITK's on brush-sized masks (no
    image conversion, no thread start-up), and it is on the path of every stroke.
    """
    labels, _ = ndimage.label(mask, structure=ndimage.generate_binary_structure(mask.ndim, 3))
    return np.asarray(labels == labels[seed])


def _fill_holes(mask: np.ndarray) -> np.ndarray:
    """Add background voxels that cannot reach the box border by face steps.

    Face connectivity for the background pairs with the full connectivity of the object,
    so a diagonal gap in the object's wall does not open a hole to the outside. A one-voxel
    background frame joins every part of the border into one outside component.
    """
    padded = np.pad(np.logical_not(mask), 1, mode="constant", constant_values=True)
    labels, _ = ndimage.label(padded, structure=ndimage.generate_binary_structure(mask.ndim, 1))
    outside = labels[(slice(1, -1),) * mask.ndim] == labels[(0,) * mask.ndim]
    return np.logical_not(outside)
