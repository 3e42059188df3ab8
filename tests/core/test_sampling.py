"""Intensity sampling around the seed: every method, the mixture model, sensitivity."""

from __future__ import annotations

import numpy as np
import pytest
from SegmentEditorAdaptiveBrushLib.core.params import BrushParameters
from SegmentEditorAdaptiveBrushLib.core.sampling import (
    fit_gmm,
    sample_intensities,
    sampling_zone,
    sensitivity_scale,
)

SPACING = (1.0, 1.0, 1.0)
SEED = (10, 10, 10)


def uniform_roi(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """21^3 ROI of N(100, 10) noise and a full brush."""
    roi = np.random.default_rng(seed).normal(100.0, 10.0, (21, 21, 21)).astype(np.float32)
    return roi, np.ones(roi.shape, dtype=bool)


def params(**updates: object) -> BrushParameters:
    # Sensitivity 40 % is the default; its scale is applied to every range below.
    return BrushParameters({"brush_radius_mm": 10.0, **updates})


def test_zone_is_the_brush_within_the_zone_radius() -> None:
    brush = np.ones((21, 21, 21), dtype=bool)
    zone = sampling_zone(brush, SEED, (2.0, 1.0, 1.0), 10.0, 50.0)

    assert zone[SEED]
    assert zone[10, 10, 15] and not zone[10, 10, 16]
    assert zone[12, 10, 10] and not zone[13, 10, 10]  # 2 mm slices: 5 mm is 2.5 slices
    brush[:, :, 12:] = False
    assert not sampling_zone(brush, SEED, SPACING, 10.0, 50.0)[10, 10, 12]


def test_sensitivity_scale_spans_loose_to_strict() -> None:
    assert sensitivity_scale(0.0) == pytest.approx(1.5)
    assert sensitivity_scale(100.0) == pytest.approx(1.0 / 3.0)
    values = [sensitivity_scale(s) for s in range(0, 101, 10)]
    assert values == sorted(values, reverse=True)


def test_mean_std_range() -> None:
    roi, brush = uniform_roi()
    stats = sample_intensities(roi, brush, SEED, SPACING, params(std_multiplier=2.0))
    half = 2.0 * stats.std * sensitivity_scale(40.0)

    assert stats.mean == pytest.approx(100.0, abs=1.5)
    assert stats.std == pytest.approx(10.0, abs=1.0)
    assert stats.low == pytest.approx(stats.mean - half, rel=1e-6)
    assert stats.high == pytest.approx(stats.mean + half, rel=1e-6)


def test_percentile_range_and_reversed_bounds() -> None:
    roi, brush = uniform_roi()
    forward = sample_intensities(
        roi,
        brush,
        SEED,
        SPACING,
        params(sampling_method="percentile", percentile_low=10.0, percentile_high=90.0),
    )
    reverse = sample_intensities(
        roi,
        brush,
        SEED,
        SPACING,
        params(sampling_method="percentile", percentile_low=90.0, percentile_high=10.0),
    )

    # The 10th..90th percentiles of N(100, 10) are 100 -/+ 12.8, scaled by 0.82 at 40 %.
    assert forward.high - forward.low == pytest.approx(2 * 12.8 * sensitivity_scale(40.0), rel=0.1)
    assert (reverse.low, reverse.high) == (forward.low, forward.high)


def test_min_max_range_covers_the_zone() -> None:
    roi, brush = uniform_roi()
    stats = sample_intensities(
        roi, brush, SEED, SPACING, params(sampling_method="min_max", edge_sensitivity=0.0)
    )
    zone = sampling_zone(brush, SEED, SPACING, 10.0, 50.0)

    assert stats.low < float(roi[zone].min()) and stats.high > float(roi[zone].max())


def test_higher_sensitivity_narrows_the_range() -> None:
    roi, brush = uniform_roi()
    widths = [
        (lambda s: s.high - s.low)(
            sample_intensities(roi, brush, SEED, SPACING, params(edge_sensitivity=level))
        )
        for level in (0.0, 40.0, 100.0)
    ]

    assert widths[0] > widths[1] > widths[2]


def test_range_always_holds_the_seed_intensity() -> None:
    roi, brush = uniform_roi()
    roi[9:12, 9:12, 9:12] = 400.0  # a bright spot under the cursor, too small to dominate
    stats = sample_intensities(roi, brush, SEED, SPACING, params())

    assert stats.low <= 400.0 <= stats.high


def bimodal_roi() -> tuple[np.ndarray, np.ndarray]:
    """Left half N(100, 8), right half N(300, 8); the seed sits on the right, at the edge."""
    rng = np.random.default_rng(7)
    roi = rng.normal(100.0, 8.0, (21, 21, 21)).astype(np.float32)
    roi[:, :, 10:] = rng.normal(300.0, 8.0, (21, 21, 11)).astype(np.float32)
    return roi, np.ones(roi.shape, dtype=bool)


@pytest.mark.parametrize("components", [2, 3, 4])
def test_gmm_picks_the_seeds_component(components: int) -> None:
    roi, brush = bimodal_roi()
    gmm = params(sampling_method="gmm", gmm_components=components)
    stats = sample_intensities(roi, brush, (10, 10, 12), SPACING, gmm)
    plain = sample_intensities(roi, brush, (10, 10, 12), SPACING, params())

    assert stats.mean == pytest.approx(300.0, abs=5.0)
    assert stats.std == pytest.approx(8.0, abs=2.0)
    assert stats.low > 250.0  # the left tissue is out of range ...
    assert plain.low < 200.0  # ... whereas mean +/- k std of the mixed zone reaches into it


def test_gmm_on_the_other_side_picks_the_other_component() -> None:
    roi, brush = bimodal_roi()
    stats = sample_intensities(roi, brush, (10, 10, 8), SPACING, params(sampling_method="gmm"))

    assert stats.mean == pytest.approx(100.0, abs=5.0)


def test_fit_gmm_recovers_three_components_deterministically() -> None:
    rng = np.random.default_rng(0)
    values = np.concatenate(
        [rng.normal(-800, 40, 5000), rng.normal(30, 20, 2000), rng.normal(300, 50, 300)]
    )
    first, second = fit_gmm(values, 3), fit_gmm(values, 3)
    order = np.argsort(first.means)

    assert np.allclose(first.means[order], [-800, 30, 300], atol=15)
    assert np.allclose(first.stds[order], [40, 20, 50], rtol=0.2)
    assert np.allclose(first.weights[order], [5000 / 7300, 2000 / 7300, 300 / 7300], atol=0.02)
    assert first.component_of(25.0) == order[1]
    assert np.array_equal(first.means, second.means)


def test_fit_gmm_with_fewer_distinct_values_than_components() -> None:
    mixture = fit_gmm(np.array([5.0, 5.0, 5.0, 9.0]), 3)

    assert list(mixture.means) == [5.0, 9.0]
    assert list(mixture.weights) == [0.75, 0.25]
    assert mixture.component_of(8.0) == 1


def test_gmm_on_a_constant_zone() -> None:
    roi = np.full((5, 5, 5), 42.0, dtype=np.float32)
    stats = sample_intensities(
        roi, np.ones(roi.shape, dtype=bool), (2, 2, 2), SPACING, params(sampling_method="gmm")
    )

    assert stats.low <= 42.0 <= stats.high
    assert stats.mean == 42.0


def test_gmm_on_one_tissue_merges_its_components() -> None:
    # Four components on one Gaussian: without merging, the seed's slice of it gave a
    # range a quarter as wide and the brush stopped on noise.
    roi, brush = uniform_roi()
    stats = sample_intensities(
        roi, brush, SEED, SPACING, params(sampling_method="gmm", gmm_components=4)
    )

    assert stats.mean == pytest.approx(100.0, abs=2.0)
    assert stats.std == pytest.approx(10.0, abs=1.5)
