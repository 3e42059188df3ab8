"""Brush geometry: RAS <-> IJK with the full IJKToRAS matrix, brush box and brush mask.

Arrays are (k, j, i). Matrices are 4x4 numpy arrays mapping homogeneous (i, j, k, 1) to
(R, A, S, 1) in mm, so oblique and anisotropic volumes are handled exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .errors import BrushGeometryError, BrushOutsideVolumeError

AXIS_NORMALS_RAS = {
    "axial": (0.0, 0.0, 1.0),
    "coronal": (0.0, 1.0, 0.0),
    "sagittal": (1.0, 0.0, 0.0),
}


@dataclass(frozen=True)
class BrushRegion:
    """Where a brush application works, in the volume's voxel grid.

    Attributes
    ----------
    start : tuple of int
        (k, j, i) index of the ROI's first voxel in the volume.
    brush : ndarray of bool, shape (k, j, i)
        The sphere or disk, over the whole ROI (brush box plus margin).
    seed : tuple of int
        (k, j, i) index of the voxel under the brush centre, relative to ``start``.
    """

    start: tuple[int, int, int]
    brush: np.ndarray
    seed: tuple[int, int, int]

    @property
    def shape(self) -> tuple[int, int, int]:
        return (int(self.brush.shape[0]), int(self.brush.shape[1]), int(self.brush.shape[2]))

    @property
    def slices(self) -> tuple[slice, slice, slice]:
        """Slices of the ROI in a (k, j, i) volume array."""
        return tuple(  # type: ignore[return-value]
            slice(s, s + n) for s, n in zip(self.start, self.shape, strict=True)
        )

    @property
    def seed_in_volume(self) -> tuple[int, int, int]:
        return (
            self.start[0] + self.seed[0],
            self.start[1] + self.seed[1],
            self.start[2] + self.seed[2],
        )


def check_matrix(ijk_to_ras: np.ndarray) -> np.ndarray:
    """Return the matrix as float64 4x4, or raise BrushGeometryError if unusable."""
    matrix = np.asarray(ijk_to_ras, dtype=np.float64)
    if matrix.shape != (4, 4) or not np.all(np.isfinite(matrix)):
        raise BrushGeometryError("IJKToRAS must be a finite 4x4 matrix")
    if abs(np.linalg.det(matrix[:3, :3])) < 1e-12:
        raise BrushGeometryError("IJKToRAS is singular (a spacing is zero)")
    return matrix


def spacing_kji(ijk_to_ras: np.ndarray) -> tuple[float, float, float]:
    """Voxel size in mm along (k, j, i): the lengths of the matrix's columns."""
    norms = np.linalg.norm(np.asarray(ijk_to_ras, dtype=np.float64)[:3, :3], axis=0)
    return (float(norms[2]), float(norms[1]), float(norms[0]))


def ras_to_ijk(ijk_to_ras: np.ndarray, ras: npt.ArrayLike) -> np.ndarray:
    """Continuous (i, j, k) index of a RAS point (mm)."""
    matrix = check_matrix(ijk_to_ras)
    point = np.append(np.asarray(ras, dtype=np.float64), 1.0)
    return np.linalg.solve(matrix, point)[:3]


def ijk_to_ras(ijk_to_ras_matrix: np.ndarray, ijk: npt.ArrayLike) -> np.ndarray:
    """RAS point (mm) of a continuous (i, j, k) index."""
    point = np.append(np.asarray(ijk, dtype=np.float64), 1.0)
    return (np.asarray(ijk_to_ras_matrix, dtype=np.float64) @ point)[:3]


def plane_normal(orientation: str, normal: npt.ArrayLike | None) -> np.ndarray:
    """Unit normal (RAS) of a 2D brush's plane.

    Axial, coronal and sagittal planes have their fixed normals, whatever ``normal`` says
    (a normal left over from an earlier oblique stroke must not tilt them); any other
    orientation needs ``normal``.
    """
    if orientation in AXIS_NORMALS_RAS:
        vector = np.asarray(AXIS_NORMALS_RAS[orientation])
    elif normal is not None:
        vector = np.asarray(normal, dtype=np.float64)
    else:
        raise BrushGeometryError(f"slice orientation '{orientation}' needs a slice_normal")
    length = float(np.linalg.norm(vector))
    if not np.isfinite(length) or length < 1e-9:
        raise BrushGeometryError(f"slice normal {tuple(vector)} has no direction")
    return vector / length


def voxel_under(
    ijk_to_ras: np.ndarray, volume_shape: Sequence[int], ras: npt.ArrayLike
) -> tuple[int, int, int] | None:
    """(k, j, i) of the voxel whose centre is nearest the RAS point, None outside the volume.

    The same rule places a brush: a brush centred outside the volume is refused.
    """
    voxel = np.rint(ras_to_ijk(ijk_to_ras, ras)[::-1]).astype(np.int64)
    if not _inside(voxel, np.asarray(volume_shape, dtype=np.int64)):
        return None
    return (int(voxel[0]), int(voxel[1]), int(voxel[2]))


def _inside(voxel_kji: np.ndarray, shape: np.ndarray) -> bool:
    return bool(np.all(voxel_kji >= 0) and np.all(voxel_kji < shape))


def brush_region(
    ijk_to_ras: np.ndarray,
    volume_shape: Sequence[int],
    center_ras: npt.ArrayLike,
    radius_mm: float,
    margin_fraction: float = 0.2,
    normal_ras: npt.ArrayLike | None = None,
) -> BrushRegion:
    """Place a sphere (``normal_ras`` None) or a disk (plane normal given) in the volume.

    The ROI is the brush's bounding box in IJK grown by ``margin_fraction`` of the radius
    (in-plane only for a disk), clipped to the volume. A brush smaller than a voxel still
    covers the voxel under its centre.

    Raises
    ------
    BrushGeometryError
        When the centre's voxel lies outside the volume or the geometry is degenerate.
    """
    matrix = check_matrix(ijk_to_ras)
    shape = np.asarray(volume_shape, dtype=np.int64)
    center = np.asarray(center_ras, dtype=np.float64)
    center_kji = ras_to_ijk(matrix, center)[::-1]
    seed_kji = np.rint(center_kji).astype(np.int64)
    seed_ijk = seed_kji[::-1]
    if not _inside(seed_kji, shape):
        raise BrushOutsideVolumeError(
            f"brush centre R {center[0]:.1f} A {center[1]:.1f} S {center[2]:.1f} is outside "
            f"the volume (voxel i,j,k = {tuple(int(v) for v in seed_ijk)}, "
            f"size {tuple(int(v) for v in shape[::-1])})"
        )
    normal = None if normal_ras is None else plane_normal("oblique", normal_ras)
    half_kji = _half_extent_kji(matrix, radius_mm, normal, margin_fraction)
    eps = 1e-9
    low = np.minimum(np.ceil(center_kji - half_kji - eps).astype(np.int64), seed_kji)
    high = np.maximum(np.floor(center_kji + half_kji + eps).astype(np.int64), seed_kji) + 1
    low, high = np.maximum(low, 0), np.minimum(high, shape)
    brush = _brush_mask(matrix, low, high, center, radius_mm, normal)
    seed_local = seed_kji - low
    brush[tuple(seed_local)] = True
    return BrushRegion(
        start=(int(low[0]), int(low[1]), int(low[2])),
        brush=brush,
        seed=(int(seed_local[0]), int(seed_local[1]), int(seed_local[2])),
    )


def _half_extent_kji(
    matrix: np.ndarray, radius_mm: float, normal: np.ndarray | None, margin_fraction: float
) -> np.ndarray:
    """Half size of the brush box plus margin along each index axis, in voxels (k, j, i)."""
    inverse = np.linalg.inv(matrix[:3, :3])
    reach = radius_mm * (1.0 + max(margin_fraction, 0.0))
    if normal is None:
        return (reach * np.linalg.norm(inverse, axis=1))[::-1]
    along_normal = inverse @ normal
    in_plane = np.sqrt(np.maximum(np.sum(inverse**2, axis=1) - along_normal**2, 0.0))
    thickness = _slab_thickness(matrix, normal)
    return (reach * in_plane + 0.5 * thickness * np.abs(along_normal))[::-1]


def _slab_thickness(matrix: np.ndarray, normal: np.ndarray) -> float:
    """Thickness (mm) of a one-voxel layer along ``normal``: the largest index step along it."""
    return float(np.max(np.abs(normal @ matrix[:3, :3])))


def _brush_mask(
    matrix: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    center: np.ndarray,
    radius_mm: float,
    normal: np.ndarray | None,
) -> np.ndarray:
    """Bool (k, j, i) mask of voxels whose centres lie in the sphere or disk."""
    rel = _relative_ras(matrix, low, high, center)
    distance2 = rel[0] ** 2 + rel[1] ** 2 + rel[2] ** 2
    if normal is None:
        inside = distance2 <= radius_mm**2
    else:
        height = normal[0] * rel[0] + normal[1] * rel[1] + normal[2] * rel[2]
        half = 0.5 * _slab_thickness(matrix, normal)
        inside = (height >= -half) & (height < half) & (distance2 - height**2 <= radius_mm**2)
    shape = tuple(int(n) for n in high - low)
    if inside.shape == shape:
        return inside
    return np.broadcast_to(inside, shape).copy()


def _relative_ras(
    matrix: np.ndarray, low: np.ndarray, high: np.ndarray, center: np.ndarray
) -> list[np.ndarray]:
    """R, A and S offsets (mm) of the box's voxel centres from ``center``, per RAS axis.

    Each offset is left as small as broadcasting allows: index axes whose matrix entry is
    exactly zero are skipped, so for the usual axis-aligned volume every offset is a
    line of voxels and a 25 mm sphere costs one pass over its box instead of a dozen.
    Terms are added in the same order either way (zeros add nothing), so the mask is the
    same bit for bit.
    """
    index = (
        np.arange(low[2], high[2], dtype=np.float64)[None, None, :],
        np.arange(low[1], high[1], dtype=np.float64)[None, :, None],
        np.arange(low[0], high[0], dtype=np.float64)[:, None, None],
    )
    offset = matrix[:3, 3] - center
    rel = []
    for axis in range(3):
        terms = [matrix[axis, c] * index[c] for c in range(3) if matrix[axis, c] != 0.0]
        total = terms[0] if terms else np.zeros((1, 1, 1))
        for term in terms[1:]:
            total = total + term
        rel.append(total + offset[axis])
    return rel
