"""Tissue presets: complete, valid against the parameter registry, and usable."""

from __future__ import annotations

import numpy as np
import pytest
from SegmentEditorAdaptiveBrushLib.core.algorithms import ALGORITHMS
from SegmentEditorAdaptiveBrushLib.core.brush import compute_brush
from SegmentEditorAdaptiveBrushLib.core.errors import ParameterError
from SegmentEditorAdaptiveBrushLib.core.params import (
    PARAMETERS,
    BrushParameters,
    preset_values,
    validate_updates,
)
from SegmentEditorAdaptiveBrushLib.core.presets import PRESETS

PRESET_NAMES = sorted(PRESETS)


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_preset_is_complete_and_valid(name: str) -> None:
    preset = PRESETS[name]

    assert set(preset) == {"label", "modality", "description", "parameters"}
    assert preset["modality"] in ("CT", "MR")
    assert name.startswith(preset["modality"].lower() + "_")
    assert preset["label"] and preset["description"].endswith(".")
    values = preset["parameters"]
    assert values["algorithm"] in ALGORITHMS
    assert {"edge_sensitivity", "threshold_zone"} <= set(values)
    assert len(values) >= 4
    assert set(values) <= set(PARAMETERS)
    # Every value survives validation unchanged: no silent clamping or type coercion.
    assert validate_updates(values) == values


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_preset_parameters_belong_to_its_algorithm(name: str) -> None:
    values = PRESETS[name]["parameters"]
    for key in values:
        owner = PARAMETERS[key].algorithm
        assert owner in (None, values["algorithm"]), f"{key} belongs to {owner}"


def test_presets_cover_ct_and_mr_tissues() -> None:
    assert {"ct_lung", "ct_soft_tissue", "ct_bone", "ct_fat", "ct_vessel_contrast"} <= set(PRESETS)
    assert {"mr_brain_tumor_t1c", "mr_white_matter"} <= set(PRESETS)


def test_explicit_parameters_win_over_the_preset() -> None:
    params = BrushParameters({"preset": "ct_bone", "edge_sensitivity": 75.0})

    assert params["algorithm"] == "threshold_brush"
    assert params["edge_sensitivity"] == 75.0


def test_unknown_preset_lists_the_valid_names() -> None:
    with pytest.raises(ParameterError) as raised:
        preset_values("ct_unicorn")

    assert "ct_unicorn" in str(raised.value)
    for name in PRESET_NAMES:
        assert name in str(raised.value)


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_preset_runs_a_stroke(name: str) -> None:
    rng = np.random.default_rng(0)
    image = rng.normal(0.0, 10.0, (20, 32, 32)).astype(np.float32)
    image[:, 8:24, 8:24] += 300.0
    params = BrushParameters({"preset": name, "brush_radius_mm": 6.0})
    result = compute_brush(image, np.eye(4), (16.0, 16.0, 10.0), params)

    inside = result.mask & result.region.brush
    assert inside[result.region.seed]
    assert inside.sum() > 0.5 * result.region.brush.sum()
