"""The grid an algorithm computes on: the ROI without flat axes, coarsened when it is large.

A brush's latency grows with the number of voxels an algorithm visits. Large ROIs are
therefore averaged over small integer blocks (finest axes first, so voxels get closer to
isotropic) until at most ``max_voxels`` remain, and the result is expanded back to the ROI
by repetition; the brush clip and post-processing then run at full resolution. Axes of
length one (a 2D brush in an axis-aligned slice) are dropped so that filters which need at
least a few pixels per dimension see a 2D image.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import SimpleITK as sitk  # noqa: N813  (the alias every SimpleITK user knows)

from .base import BrushInput

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkGrid:
    """An algorithm's view of the ROI.

    Attributes
    ----------
    image : ndarray of float32
        Intensities on the work grid, numpy axis order (flat axes of the ROI removed).
    brush : ndarray of bool
        Brush mask on the work grid (a coarse voxel is in the brush if any of its block is).
    seed : tuple of int
        Seed index on the work grid, numpy axis order.
    spacing : tuple of float
        Work-grid voxel size in mm, numpy axis order.
    roi_shape : tuple of int
        Shape (k, j, i) of the full-resolution ROI.
    factors : tuple of int
        Block size (k, j, i) of one work-grid voxel in ROI voxels.
    kept_axes : tuple of int
        ROI axes (0 = k, 1 = j, 2 = i) that the work grid keeps.
    """

    image: np.ndarray
    brush: np.ndarray
    seed: tuple[int, ...]
    spacing: tuple[float, ...]
    roi_shape: tuple[int, int, int]
    factors: tuple[int, int, int]
    kept_axes: tuple[int, ...]

    @property
    def coarse(self) -> bool:
        """True when the work grid is coarser than the ROI."""
        return any(f > 1 for f in self.factors)

    @property
    def seed_xyz(self) -> list[int]:
        """Seed index in SimpleITK (x, y[, z]) order."""
        return [int(v) for v in self.seed[::-1]]

    def to_sitk(self, array: np.ndarray) -> sitk.Image:
        """Wrap a work-grid array as a SimpleITK image with the work grid's spacing (mm)."""
        image = sitk.GetImageFromArray(np.ascontiguousarray(array))
        image.SetSpacing(tuple(float(s) for s in self.spacing[::-1]))
        return image

    def expand(self, mask: np.ndarray) -> np.ndarray:
        """Bool (k, j, i) ROI mask from a work-grid mask (blocks repeated, edges cropped)."""
        full = np.asarray(mask, dtype=bool).reshape(self._coarse_shape())
        for axis, factor in enumerate(self.factors):
            if factor > 1:
                full = np.repeat(full, factor, axis=axis)
        return np.ascontiguousarray(full[tuple(slice(0, n) for n in self.roi_shape)])

    def _coarse_shape(self) -> tuple[int, int, int]:
        return (
            _blocks(self.roi_shape[0], self.factors[0]),
            _blocks(self.roi_shape[1], self.factors[1]),
            _blocks(self.roi_shape[2], self.factors[2]),
        )


def make_work_grid(inp: BrushInput, max_voxels: int) -> WorkGrid:
    """Work grid of ``inp`` with at most about ``max_voxels`` voxels.

    Parameters
    ----------
    inp : BrushInput
        The ROI, seed and spacing (mm, (k, j, i)).
    max_voxels : int
        Voxel budget of the algorithm; ROIs within it are used at full resolution.
    """
    shape = tuple(int(n) for n in inp.image.shape)
    factors = block_factors(shape, inp.spacing, max_voxels)
    image, brush = inp.image, inp.brush
    if any(f > 1 for f in factors):
        image = _block_mean(inp.image, factors)
        brush = _block_any(inp.brush, factors)
        logger.debug("ROI %s coarsened by %s to %s", shape, factors, image.shape)
    kept = tuple(axis for axis in range(3) if shape[axis] > 1)
    flat = tuple(axis for axis in range(3) if shape[axis] == 1)
    seed = tuple(int(inp.seed[a]) // factors[a] for a in kept)
    spacing = tuple(float(inp.spacing[a]) * factors[a] for a in kept)
    return WorkGrid(
        image=np.ascontiguousarray(np.squeeze(image, axis=flat), dtype=np.float32),
        brush=np.ascontiguousarray(np.squeeze(brush, axis=flat)),
        seed=seed,
        spacing=spacing,
        roi_shape=(shape[0], shape[1], shape[2]),
        factors=factors,
        kept_axes=kept,
    )


def block_factors(
    shape: tuple[int, ...], spacing: tuple[float, float, float], max_voxels: int
) -> tuple[int, int, int]:
    """Integer block sizes (k, j, i) that bring ``shape`` within ``max_voxels``.

    The axis whose coarse voxel is currently thinnest (in mm) grows first, so anisotropic
    voxels become more isotropic before isotropic ones get coarser.
    """
    factors = [1, 1, 1]
    while _count(shape, factors) > max_voxels:
        growable = [a for a in range(3) if _blocks(shape[a], factors[a]) > 1]
        if not growable:
            break
        axis = min(growable, key=lambda a: (spacing[a] * factors[a], -shape[a]))
        factors[axis] += 1
    return (factors[0], factors[1], factors[2])


def _blocks(length: int, factor: int) -> int:
    return -(-length // factor)


def _count(shape: tuple[int, ...], factors: list[int]) -> int:
    return int(np.prod([_blocks(n, f) for n, f in zip(shape, factors, strict=True)]))


def _padded_blocks(array: np.ndarray, factors: tuple[int, int, int]) -> np.ndarray:
    """View of ``array`` (edge-padded to whole blocks) as (nk, fk, nj, fj, ni, fi)."""
    pad = [(0, _blocks(n, f) * f - n) for n, f in zip(array.shape, factors, strict=True)]
    if any(after for _, after in pad):
        array = np.pad(array, pad, mode="edge")
    nk, nj, ni = (n // f for n, f in zip(array.shape, factors, strict=True))
    return array.reshape(nk, factors[0], nj, factors[1], ni, factors[2])


def _block_mean(array: np.ndarray, factors: tuple[int, int, int]) -> np.ndarray:
    blocks = _padded_blocks(np.asarray(array, dtype=np.float32), factors)
    return blocks.mean(axis=(1, 3, 5), dtype=np.float32)


def _block_any(mask: np.ndarray, factors: tuple[int, int, int]) -> np.ndarray:
    return np.asarray(_padded_blocks(np.asarray(mask, dtype=bool), factors).any(axis=(1, 3, 5)))
