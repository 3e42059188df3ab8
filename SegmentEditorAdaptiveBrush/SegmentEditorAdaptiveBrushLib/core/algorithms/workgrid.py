"""The grid an algorithm computes on: the brush's box, flat axes dropped, coarse when large.

A brush's latency grows with the number of voxels an algorithm visits, so the work grid is
kept small in three ways:

- it covers only the brush's bounding box plus ``CONTEXT`` voxels (the smoothing and
  gradient need one or two neighbours), not the whole ROI margin: results are clipped to
  the brush anyway, and a flood that left the brush and came back would be cut off there;
- large boxes are averaged over small integer blocks (the axis with the thinnest voxels
  first, so voxels get closer to isotropic) until at most ``max_voxels`` remain; the
  result is expanded back by repetition, and the brush clip and post-processing then run
  at full resolution;
- axes of length one (a 2D brush in an axis-aligned slice) are dropped, so filters that
  need a few pixels per dimension see a 2D image; but at least two axes are always kept
  (topped up with flat ones, lowest first), because SimpleITK has no 1-D or 0-D images.
  A brush smaller than a voxel across (1 mm on 3 mm voxels) or a 2D brush narrower than
  one slice (4 mm across 10 mm slices) leaves a box of (1, 1, n) or (1, 1, 1) voxels: its
  work grid is a (1, n) or (1, 1) image, on which every algorithm runs as on any other.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import SimpleITK as sitk

from .base import BrushInput

logger = logging.getLogger(__name__)

# Voxels kept around the brush's box so edges at the brush rim still see both sides.
CONTEXT = 2

# SimpleITK images have two or three dimensions.
MIN_AXES = 2


@dataclass(frozen=True)
class WorkGrid:
    """An algorithm's view of the ROI.

    Attributes
    ----------
    image : ndarray of float32
        Intensities on the work grid, numpy axis order (flat axes of the ROI removed, but
        never fewer than two axes).
    brush : ndarray of bool
        Brush mask on the work grid (a coarse voxel is in the brush if any of its block is).
    seed : tuple of int
        Seed index on the work grid, numpy axis order.
    spacing : tuple of float
        Work-grid voxel size in mm, numpy axis order.
    roi_shape : tuple of int
        Shape (k, j, i) of the full-resolution ROI.
    box : tuple of slice
        The part (k, j, i) of the ROI that the work grid covers.
    factors : tuple of int
        Block size (k, j, i) of one work-grid voxel in ROI voxels.
    kept_axes : tuple of int
        ROI axes (0 = k, 1 = j, 2 = i) that the work grid keeps: at least two, see
        ``kept_axes``.
    """

    image: np.ndarray
    brush: np.ndarray
    seed: tuple[int, ...]
    spacing: tuple[float, ...]
    roi_shape: tuple[int, int, int]
    box: tuple[slice, slice, slice]
    factors: tuple[int, int, int]
    kept_axes: tuple[int, ...]

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
        """Bool (k, j, i) ROI mask from a work-grid mask (blocks repeated, outside box False)."""
        box_shape = tuple(s.stop - s.start for s in self.box)
        coarse_shape = tuple(_blocks(n, f) for n, f in zip(box_shape, self.factors, strict=True))
        full = np.asarray(mask, dtype=bool).reshape(coarse_shape)
        for axis, factor in enumerate(self.factors):
            if factor > 1:
                full = np.repeat(full, factor, axis=axis)
        roi = np.zeros(self.roi_shape, dtype=bool)
        roi[self.box] = full[tuple(slice(0, n) for n in box_shape)]
        return roi


def make_work_grid(inp: BrushInput, max_voxels: int) -> WorkGrid:
    """Work grid of ``inp`` with at most about ``max_voxels`` voxels.

    Parameters
    ----------
    inp : BrushInput
        The ROI (k, j, i), seed, brush and spacing (mm, (k, j, i)).
    max_voxels : int
        Voxel budget of the algorithm; boxes within it are used at full resolution.
    """
    box = brush_box(inp.brush, inp.seed)
    image, brush = inp.image[box], inp.brush[box]
    shape = (int(image.shape[0]), int(image.shape[1]), int(image.shape[2]))
    factors = block_factors(shape, inp.spacing, max_voxels)
    if any(f > 1 for f in factors):
        image = block_reduce(image, factors, "mean")
        brush = block_reduce(brush, factors, "any")
        logger.debug("work box %s coarsened by %s to %s", shape, factors, image.shape)
    kept = kept_axes(shape)
    flat = tuple(axis for axis in range(3) if axis not in kept)
    seed = tuple((int(inp.seed[a]) - box[a].start) // factors[a] for a in kept)
    return WorkGrid(
        image=np.ascontiguousarray(np.squeeze(image, axis=flat), dtype=np.float32),
        brush=np.ascontiguousarray(np.squeeze(brush, axis=flat), dtype=bool),
        seed=seed,
        spacing=tuple(float(inp.spacing[a]) * factors[a] for a in kept),
        roi_shape=(int(inp.image.shape[0]), int(inp.image.shape[1]), int(inp.image.shape[2])),
        box=box,
        factors=factors,
        kept_axes=kept,
    )


def kept_axes(shape: tuple[int, int, int]) -> tuple[int, ...]:
    """Axes (0 = k, 1 = j, 2 = i) of a box that the work grid keeps, in order.

    Every axis longer than one voxel, topped up with flat axes (lowest first) to at least
    two: SimpleITK images have two or three dimensions.
    """
    kept = [axis for axis in range(3) if shape[axis] > 1]
    flat = [axis for axis in range(3) if shape[axis] == 1]
    return tuple(sorted(kept + flat[: max(MIN_AXES - len(kept), 0)]))


def brush_box(brush: np.ndarray, seed: tuple[int, int, int]) -> tuple[slice, slice, slice]:
    """Slices (k, j, i) of the brush's bounding box (holding the seed) plus ``CONTEXT``."""
    bounds = []
    for axis in range(3):
        others = tuple(a for a in range(3) if a != axis)
        present = np.flatnonzero(brush.any(axis=others))
        low = min(int(present[0]), seed[axis]) if present.size else seed[axis]
        high = max(int(present[-1]), seed[axis]) if present.size else seed[axis]
        bounds.append(slice(max(low - CONTEXT, 0), min(high + 1 + CONTEXT, brush.shape[axis])))
    return (bounds[0], bounds[1], bounds[2])


def block_factors(
    shape: tuple[int, int, int], spacing: tuple[float, float, float], max_voxels: int
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


def block_reduce(array: np.ndarray, factors: tuple[int, int, int], mode: str) -> np.ndarray:
    """Reduce ``array`` over blocks of ``factors``: ``mode`` "mean" (float32) or "any".

    One axis at a time, so every reduction runs over a contiguous reshape; a partial last
    block is padded by repeating the edge, which keeps the mean of uniform tissue exact.
    """
    out = np.asarray(array)
    for axis, factor in enumerate(factors):
        if factor == 1:
            continue
        extra = _blocks(out.shape[axis], factor) * factor - out.shape[axis]
        if extra:
            pad = [(0, 0)] * out.ndim
            pad[axis] = (0, extra)
            out = np.pad(out, pad, mode="edge")
        split = out.shape[:axis] + (out.shape[axis] // factor, factor) + out.shape[axis + 1 :]
        if mode == "any":
            out = np.asarray(out.reshape(split).any(axis=axis + 1))
        else:
            out = out.reshape(split).mean(axis=axis + 1, dtype=np.float32)
    return out


def _blocks(length: int, factor: int) -> int:
    return -(-length // factor)


def _count(shape: tuple[int, int, int], factors: list[int]) -> int:
    return int(np.prod([_blocks(n, f) for n, f in zip(shape, factors, strict=True)]))
