"""Brush placement with the full IJKToRAS matrix: spheres, disks, oblique and anisotropic."""

from __future__ import annotations

import numpy as np
import pytest
from SegmentEditorAdaptiveBrushLib.core.errors import BrushGeometryError
from SegmentEditorAdaptiveBrushLib.core.geometry import (
    brush_region,
    ijk_to_ras,
    plane_normal,
    ras_to_ijk,
    spacing_kji,
    voxel_under,
)


def matrix(spacing=(1.0, 1.0, 1.0), rotation=None, origin=(0.0, 0.0, 0.0)) -> np.ndarray:
    m = np.eye(4)
    m[:3, :3] = (np.eye(3) if rotation is None else np.asarray(rotation)) @ np.diag(spacing)
    m[:3, 3] = origin
    return m


def rotation_z(degrees: float) -> np.ndarray:
    a = np.radians(degrees)
    return np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])


def voxel_centres_ras(m: np.ndarray, region) -> np.ndarray:
    k, j, i = np.nonzero(region.brush)
    ijk = np.stack([i, j, k], axis=1) + np.asarray(region.start[::-1])
    return (m[:3, :3] @ ijk.T).T + m[:3, 3]


def test_round_trip_ras_ijk_on_oblique_anisotropic_matrix():
    m = matrix((0.5, 0.8, 3.0), rotation_z(30), (10.0, -20.0, 5.0))
    point = np.array([12.3, -4.5, 30.2])
    assert np.allclose(ijk_to_ras(m, ras_to_ijk(m, point)), point)
    assert spacing_kji(m) == pytest.approx((3.0, 0.8, 0.5))


def test_sphere_on_anisotropic_volume_contains_exactly_the_voxels_within_radius():
    m = matrix((0.5, 0.5, 2.0))
    center = (10.0, 10.0, 20.0)
    region = brush_region(m, (40, 60, 60), center, radius_mm=5.0, margin_fraction=0.0)
    # Every voxel centre within 5 mm is in, every one outside is out.
    k, j, i = np.meshgrid(*[np.arange(n) for n in region.shape], indexing="ij")
    ras = np.stack(
        [(i + region.start[2]) * 0.5, (j + region.start[1]) * 0.5, (k + region.start[0]) * 2.0],
        axis=-1,
    )
    expected = np.linalg.norm(ras - center, axis=-1) <= 5.0
    assert np.array_equal(region.brush, expected)
    assert region.brush.shape == (5, 21, 21)  # 10 mm / 2 mm + 1 slices, 10 mm / 0.5 mm + 1
    assert region.seed_in_volume == (10, 20, 20)


def test_sphere_on_oblique_volume_is_round_in_ras():
    m = matrix((0.7, 0.7, 1.5), rotation_z(37), (-5.0, 3.0, 0.0))
    center = ijk_to_ras(m, (30.2, 25.7, 15.1))
    region = brush_region(m, (40, 60, 60), center, radius_mm=6.0)
    distances = np.linalg.norm(voxel_centres_ras(m, region) - center, axis=1)
    assert distances.max() <= 6.0 + 1e-9
    assert region.brush.sum() == pytest.approx(4 / 3 * np.pi * 6**3 / (0.7 * 0.7 * 1.5), rel=0.1)


def test_margin_grows_the_roi_not_the_brush():
    m = matrix((1.0, 1.0, 1.0))
    tight = brush_region(m, (50, 50, 50), (25, 25, 25), 5.0, margin_fraction=0.0)
    wide = brush_region(m, (50, 50, 50), (25, 25, 25), 5.0, margin_fraction=0.4)
    assert tight.shape == (11, 11, 11) and wide.shape == (15, 15, 15)
    assert tight.brush.sum() == wide.brush.sum()


@pytest.mark.parametrize(
    ("orientation", "flat_axis"), [("axial", 0), ("coronal", 1), ("sagittal", 2)]
)
def test_disk_is_one_voxel_thick_in_its_plane(orientation, flat_axis):
    m = matrix((0.8, 0.8, 2.5))
    normal = plane_normal(orientation, None)
    region = brush_region(m, (30, 60, 60), (20.0, 20.0, 30.0), 6.0, normal_ras=normal)
    occupied = [np.unique(np.nonzero(region.brush)[a]).size for a in range(3)]
    assert occupied[flat_axis] == 1
    assert region.shape[flat_axis] == 1, "a 2D brush's ROI is a single slice"


def test_oblique_disk_lies_in_its_plane():
    m = matrix((1.0, 1.0, 1.0))
    normal = np.array([1.0, 1.0, 0.0]) / np.sqrt(2)
    center = np.array([20.0, 20.0, 20.0])
    region = brush_region(m, (40, 40, 40), center, 8.0, normal_ras=normal)
    offsets = voxel_centres_ras(m, region) - center
    heights = offsets @ normal
    assert np.abs(heights).max() <= 0.5 / np.sqrt(2) + 1e-9  # half the layer thickness
    in_plane = np.sqrt(np.maximum((offsets**2).sum(1) - heights**2, 0))
    assert in_plane.max() <= 8.0 + 1e-9
    assert region.brush.sum() > 100


def test_brush_smaller_than_a_voxel_still_covers_the_voxel_under_it():
    m = matrix((3.0, 3.0, 10.0))
    region = brush_region(m, (10, 10, 10), (4.2, 5.9, 31.0), radius_mm=1.0)
    assert region.brush.sum() == 1
    assert region.seed_in_volume == (3, 2, 1)


def test_roi_is_clipped_at_the_volume_border():
    m = matrix((1.0, 1.0, 1.0))
    region = brush_region(m, (20, 20, 20), (0.0, 0.0, 0.0), 5.0)
    assert region.start == (0, 0, 0)
    assert all(n <= 7 for n in region.shape)
    assert region.seed == (0, 0, 0)


def test_centre_outside_the_volume_is_an_error_naming_it():
    m = matrix((1.0, 1.0, 1.0))
    with pytest.raises(BrushGeometryError, match=r"R 50.0 A 0.0 S 0.0 is outside the volume"):
        brush_region(m, (20, 20, 20), (50.0, 0.0, 0.0), 5.0)


@pytest.mark.parametrize("bad", [np.zeros((4, 4)), np.full((4, 4), np.nan), np.eye(3)])
def test_unusable_matrices_are_rejected(bad):
    with pytest.raises(BrushGeometryError):
        brush_region(bad, (5, 5, 5), (0.0, 0.0, 0.0), 2.0)


def test_degenerate_plane_normal_is_rejected():
    with pytest.raises(BrushGeometryError, match="no direction"):
        plane_normal("oblique", (0.0, 0.0, 0.0))
    with pytest.raises(BrushGeometryError, match="needs a slice_normal"):
        plane_normal("oblique", None)


def test_named_orientations_ignore_a_leftover_normal():
    """Regression: a slice_normal kept from an earlier oblique stroke made a later "axial"
    stroke paint a sagittal disk."""
    assert tuple(plane_normal("axial", (1.0, 0.0, 0.0))) == (0.0, 0.0, 1.0)
    assert tuple(plane_normal("coronal", (1.0, 0.0, 0.0))) == (0.0, 1.0, 0.0)
    assert tuple(plane_normal("oblique", (0.0, 2.0, 0.0))) == (0.0, 1.0, 0.0)


def test_voxel_under_uses_the_brush_placement_rule():
    m = matrix((2.0, 2.0, 5.0), origin=(-10.0, 0.0, 0.0))
    assert voxel_under(m, (4, 10, 10), (-6.2, 3.1, 9.0)) == (2, 2, 2)
    assert voxel_under(m, (4, 10, 10), (-12.0, 0.0, 0.0)) is None  # rounds to i = -1
    assert voxel_under(m, (4, 10, 10), (-10.9, 0.0, 0.0)) == (0, 0, 0)  # rounds to i = 0
