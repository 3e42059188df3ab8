"""Non-finite voxels (NaN, +/-inf) in float volumes.

Policy (core/brush.py): they never belong to a result, no sampled statistic sees them,
every algorithm stops at them as at a strong edge, and a brush centred on one is refused
with a BrushGeometryError that names the voxel. Before, geodesic distance raised "float
division by zero", connected threshold and confidence connected painted nothing, and
watershed and random walker filled the whole brush, NaN voxels included.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from SegmentEditorAdaptiveBrushLib.core.algorithms import ALGORITHMS
from SegmentEditorAdaptiveBrushLib.core.brush import compute_brush, prepare_brush_input
from SegmentEditorAdaptiveBrushLib.core.errors import BrushGeometryError
from SegmentEditorAdaptiveBrushLib.core.params import BrushParameters

from tests.core.test_algorithms import BRUSH_RADIUS_MM, Scene, fraction, full_mask, make_scene

ALGORITHM_NAMES = sorted(ALGORITHMS)
NON_FINITE = [math.nan, math.inf, -math.inf]


def with_holes(scene: Scene, value: float) -> tuple[np.ndarray, np.ndarray]:
    """The scene's image with ``value`` in a 3 mm ball inside the sphere, 6 mm from the seed,
    and in a block of background inside the brush; and the mask of those voxels."""
    k, j, i = np.indices(scene.image.shape)
    holes = np.asarray((k - 24) ** 2 + (j - 30) ** 2 + (i - 24) ** 2 <= 9)
    holes |= (k >= 10) & (k < 14) & (j >= 10) & (j < 14) & (i >= 20) & (i < 28)
    image = scene.image.copy()
    image[holes] = value
    return image, holes


@pytest.fixture(scope="module")
def scene() -> Scene:
    return make_scene()


@pytest.mark.parametrize("value", NON_FINITE)
@pytest.mark.parametrize("name", ALGORITHM_NAMES)
def test_non_finite_voxels_are_never_selected(scene: Scene, name: str, value: float) -> None:
    image, holes = with_holes(scene, value)
    params = BrushParameters({"algorithm": name, "brush_radius_mm": BRUSH_RADIUS_MM})
    result = compute_brush(image, scene.ijk_to_ras, scene.centre_ras, params)
    selected = full_mask(result, result.mask, image.shape)
    brush = full_mask(result, result.region.brush, image.shape)

    assert (holes & brush).sum() > 100
    assert not np.any(selected & holes)
    # The rest behaves as without the holes (compare test_algorithms: at least 0.85).
    assert fraction(selected, scene.sphere & ~holes, brush) > 0.8
    assert fraction(selected, scene.slab, brush) < 0.05


@pytest.mark.parametrize("value", NON_FINITE)
def test_sampling_ignores_non_finite_voxels(scene: Scene, value: float) -> None:
    image, holes = with_holes(scene, value)
    params = BrushParameters({"brush_radius_mm": BRUSH_RADIUS_MM})
    region, inp = prepare_brush_input(image, scene.ijk_to_ras, scene.centre_ras, params)
    _, clean = prepare_brush_input(
        np.where(holes, np.float32(200.0), scene.image), scene.ijk_to_ras, scene.centre_ras, params
    )

    stats = (inp.stats.low, inp.stats.high, inp.stats.mean, inp.stats.std)
    assert all(math.isfinite(v) for v in stats)
    assert inp.stats.low < 200.0 < inp.stats.high
    # The sphere's own spread, not more: the holes are not sampled as anything.
    assert abs(inp.stats.mean - clean.stats.mean) < 2.0
    assert np.all(np.isfinite(inp.image))
    assert not np.any(inp.brush & holes[region.slices])
    assert np.array_equal(inp.brush, region.brush & ~holes[region.slices])


@pytest.mark.parametrize("value", NON_FINITE)
def test_a_brush_centred_on_a_non_finite_voxel_is_refused(scene: Scene, value: float) -> None:
    image = scene.image.copy()
    image[24, 24, 24] = value

    with pytest.raises(BrushGeometryError, match=r"i, j, k = 24, 24, 24\) is -?(nan|inf)"):
        compute_brush(image, scene.ijk_to_ras, scene.centre_ras, BrushParameters())


def test_float64_beyond_float32_counts_as_non_finite(scene: Scene) -> None:
    """Intensities are handled as float32; 1e39 would become inf there."""
    image = scene.image.astype(np.float64)
    image[24, 30, 24] = 1e39
    params = BrushParameters({"algorithm": "connected_threshold", "brush_radius_mm": 10.0})
    with np.errstate(over="ignore"):
        result = compute_brush(image, scene.ijk_to_ras, scene.centre_ras, params)
    selected = full_mask(result, result.mask, image.shape)

    assert not selected[24, 30, 24]
    assert selected[24, 28, 24]


def test_the_source_volume_is_not_modified(scene: Scene) -> None:
    image, holes = with_holes(scene, math.nan)
    before = image.copy()
    compute_brush(image, scene.ijk_to_ras, scene.centre_ras, BrushParameters())

    assert np.array_equal(image, before, equal_nan=True)
