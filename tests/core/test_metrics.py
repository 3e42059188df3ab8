"""Known-answer tests for the overlap and surface-distance metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.spatial.distance import cdist
from SegmentEditorAdaptiveBrushTesterLib.core import metrics

ANISO = (2.5, 0.7, 1.2)  # (k, j, i) mm, deliberately all different


def _cube(shape: tuple[int, int, int], start: tuple[int, int, int], size: int) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    k, j, i = start
    mask[k : k + size, j : j + size, i : i + size] = True
    return mask


def _sphere(
    shape: tuple[int, int, int],
    centre_mm: tuple[float, float, float],
    radius_mm: float,
    spacing: tuple[float, float, float],
) -> np.ndarray:
    grids = np.indices(shape, dtype=np.float64)
    squared = sum(((grids[axis] * spacing[axis]) - centre_mm[axis]) ** 2 for axis in range(3))
    return squared <= radius_mm**2


def _brute_force_distances(
    a: np.ndarray, b: np.ndarray, spacing: tuple[float, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """All-pairs reference: independent of the crop and of the distance transform."""
    points_a = np.argwhere(metrics.surface_mask(a)) * np.asarray(spacing)
    points_b = np.argwhere(metrics.surface_mask(b)) * np.asarray(spacing)
    pairwise = cdist(points_a, points_b)
    return pairwise.min(axis=1), pairwise.min(axis=0)


def test_identical_masks_are_perfect() -> None:
    mask = _sphere((20, 30, 30), (20.0, 10.0, 18.0), 7.0, ANISO)

    result = metrics.compare(mask, mask.copy(), ANISO)

    assert result["dice"] == 1.0
    assert result["jaccard"] == 1.0
    assert result["volume_similarity"] == 1.0
    assert result["hausdorff_mm"] == 0.0
    assert result["hausdorff95_mm"] == 0.0


def test_cubes_offset_along_k_give_exact_hausdorff_on_anisotropic_spacing() -> None:
    a = _cube((16, 12, 12), (3, 4, 4), 4)
    b = _cube((16, 12, 12), (5, 4, 4), 4)

    result = metrics.compare(a, b, ANISO)

    # Two voxels along k at 2.5 mm: the far faces are 5 mm from the other surface.
    assert result["hausdorff_mm"] == pytest.approx(5.0)
    assert result["dice"] == pytest.approx(0.5)
    assert result["jaccard"] == pytest.approx(1.0 / 3.0)
    assert result["volume_similarity"] == 1.0


def test_cubes_offset_along_two_axes_give_corner_to_corner_hausdorff() -> None:
    a = _cube((20, 12, 20), (2, 4, 2), 4)
    b = _cube((20, 12, 20), (5, 4, 7), 4)

    hausdorff = metrics.hausdorff_mm(a, b, ANISO)

    # Corner of one cube to the nearest corner of the other: 3 voxels in k, 5 in i.
    assert hausdorff == pytest.approx(math.hypot(3 * 2.5, 5 * 1.2))
    assert metrics.dice(a, b) == 0.0


def test_distances_match_brute_force_on_cubes_and_spheres() -> None:
    cases = [
        (_cube((20, 12, 20), (2, 4, 2), 4), _cube((20, 12, 20), (5, 4, 7), 4)),
        (
            _sphere((16, 40, 30), (18.0, 14.0, 17.0), 8.0, ANISO),
            _sphere((16, 40, 30), (20.0, 15.0, 19.0), 6.5, ANISO),
        ),
    ]
    for a, b in cases:
        expected_ab, expected_ba = _brute_force_distances(a, b, ANISO)
        pooled = np.concatenate([expected_ab, expected_ba])

        got_ab, got_ba = metrics.surface_distances(a, b, ANISO)

        np.testing.assert_allclose(np.sort(got_ab), np.sort(expected_ab), rtol=1e-6, atol=1e-4)
        np.testing.assert_allclose(np.sort(got_ba), np.sort(expected_ba), rtol=1e-6, atol=1e-4)
        assert metrics.hausdorff_mm(a, b, ANISO) == pytest.approx(pooled.max())
        # The documented definition: 95th percentile of the pooled directed distances.
        assert metrics.hausdorff95_mm(a, b, ANISO) == pytest.approx(np.percentile(pooled, 95))


def test_spheres_offset_by_known_distance() -> None:
    spacing = (2.0, 1.0, 1.0)
    a = _sphere((30, 40, 50), (30.0, 20.0, 20.0), 10.0, spacing)
    b = _sphere((30, 40, 50), (30.0, 20.0, 26.0), 10.0, spacing)

    result = metrics.compare(a, b, spacing)

    # Surfaces are 6 mm apart along i; voxelisation moves them by under a voxel.
    assert result["hausdorff_mm"] == pytest.approx(6.0, abs=1.0)
    assert 0.0 < result["hausdorff95_mm"] <= result["hausdorff_mm"]
    assert 0.5 < result["dice"] < 0.8


def test_concentric_spheres_hausdorff_is_radius_difference() -> None:
    spacing = (1.0, 1.0, 1.0)
    a = _sphere((40, 40, 40), (20.0, 20.0, 20.0), 12.0, spacing)
    b = _sphere((40, 40, 40), (20.0, 20.0, 20.0), 8.0, spacing)

    assert metrics.hausdorff_mm(a, b, spacing) == pytest.approx(4.0, abs=1.0)
    assert metrics.volume_similarity(a, b) == pytest.approx(
        1 - (a.sum() - b.sum()) / (a.sum() + b.sum())
    )


def test_mask_on_array_border_has_surface_there() -> None:
    full = np.ones((5, 5, 5), dtype=bool)
    inner = np.zeros((5, 5, 5), dtype=bool)
    inner[1:4, 1:4, 1:4] = True

    # The array corner is a surface voxel of the full mask; the nearest inner-cube
    # surface voxel is one diagonal step away.
    assert metrics.hausdorff_mm(full, inner, (1.0, 1.0, 1.0)) == pytest.approx(math.sqrt(3))


def test_both_empty_agree_perfectly() -> None:
    empty = np.zeros((4, 5, 6), dtype=bool)

    result = metrics.compare(empty, empty, (1.0, 1.0, 1.0))

    assert result == {
        "dice": 1.0,
        "jaccard": 1.0,
        "volume_similarity": 1.0,
        "hausdorff_mm": 0.0,
        "hausdorff95_mm": 0.0,
        "volume_a_mm3": 0.0,
        "volume_b_mm3": 0.0,
    }


@pytest.mark.parametrize("empty_first", [True, False])
def test_one_empty_gives_zero_overlap_and_infinite_distances(empty_first: bool) -> None:
    empty = np.zeros((10, 10, 10), dtype=bool)
    cube = _cube((10, 10, 10), (2, 2, 2), 3)
    a, b = (empty, cube) if empty_first else (cube, empty)

    result = metrics.compare(a, b, ANISO)

    assert result["dice"] == 0.0
    assert result["jaccard"] == 0.0
    assert result["volume_similarity"] == 0.0
    assert result["hausdorff_mm"] == math.inf
    assert result["hausdorff95_mm"] == math.inf
    assert metrics.hausdorff95_mm(a, b, ANISO) == math.inf


def test_integer_masks_equal_bool_masks() -> None:
    a = _cube((10, 10, 10), (1, 1, 1), 5)
    b = _cube((10, 10, 10), (2, 1, 3), 5)

    as_bool = metrics.compare(a, b, ANISO)
    as_int = metrics.compare(a.astype(np.uint8), (b * 7).astype(np.int16), ANISO)

    assert as_int == as_bool


def test_volumes_use_spacing() -> None:
    a = _cube((10, 10, 10), (0, 0, 0), 2)
    b = _cube((10, 10, 10), (0, 0, 0), 3)

    result = metrics.compare(a, b, ANISO)

    voxel = 2.5 * 0.7 * 1.2
    assert result["volume_a_mm3"] == pytest.approx(8 * voxel)
    assert result["volume_b_mm3"] == pytest.approx(27 * voxel)


def test_small_structure_in_large_volume_matches_small_volume() -> None:
    small_a = _cube((12, 12, 12), (2, 3, 4), 5)
    small_b = _cube((12, 12, 12), (4, 3, 5), 5)
    large_a = np.zeros((120, 512, 512), dtype=bool)
    large_b = np.zeros_like(large_a)
    large_a[50:62, 300:312, 7:19] = small_a
    large_b[50:62, 300:312, 7:19] = small_b

    assert metrics.compare(large_a, large_b, ANISO) == pytest.approx(
        metrics.compare(small_a, small_b, ANISO)
    )


def test_shape_mismatch_names_both_shapes() -> None:
    with pytest.raises(ValueError, match=r"\(3, 4, 5\).*\(3, 4, 6\)"):
        metrics.dice(np.zeros((3, 4, 5)), np.zeros((3, 4, 6)))
    with pytest.raises(metrics.MaskShapeError):
        metrics.compare(np.zeros((3, 4, 5)), np.zeros((5, 4, 3)), (1.0, 1.0, 1.0))


@pytest.mark.parametrize(
    "spacing", [(1.0, 1.0), (1.0, 0.0, 1.0), (1.0, -2.0, 1.0), (1, 1, math.nan)]
)
def test_bad_spacing_is_rejected(spacing: tuple[float, ...]) -> None:
    mask = _cube((6, 6, 6), (1, 1, 1), 2)

    with pytest.raises(ValueError, match="spacing"):
        metrics.hausdorff_mm(mask, mask, spacing)
