"""Parameter registry: defaults, ranges, unknown names, presets, immutability."""

from __future__ import annotations

import math

import pytest
from SegmentEditorAdaptiveBrushLib.core.algorithms import ALGORITHMS
from SegmentEditorAdaptiveBrushLib.core.errors import ParameterError
from SegmentEditorAdaptiveBrushLib.core.params import (
    PARAMETERS,
    BrushParameters,
    parameter_names,
    validate_updates,
)
from SegmentEditorAdaptiveBrushLib.core.presets import PRESETS


def test_defaults_users_expect():
    params = BrushParameters()
    assert params["brush_radius_mm"] == 5.0
    assert params["edge_sensitivity"] == 40.0
    assert params["threshold_zone"] == 50.0
    assert params["brush_mode"] == "3d"
    assert params["algorithm"] in ALGORITHMS


def test_every_algorithm_is_a_valid_choice_and_has_documented_parameters():
    assert set(PARAMETERS["algorithm"].choices or ()) == set(ALGORITHMS)
    for spec in PARAMETERS.values():
        assert spec.doc, f"{spec.name} has no doc"
        if spec.kind in ("float", "int"):
            assert spec.minimum is not None and spec.maximum is not None, spec.name
            assert spec.minimum <= spec.default <= spec.maximum, spec.name


@pytest.mark.parametrize(
    ("updates", "message"),
    [
        ({"brush_radius_mm": 0.5}, r"'brush_radius_mm': 0.5 is out of range \[1, 100\] mm"),
        ({"brush_radius_mm": 101}, "out of range"),
        ({"brush_radius_mm": math.nan}, "expected a finite number"),
        ({"brush_radius_mm": "ten"}, "expected a finite number"),
        ({"edge_sensitivity": True}, "expected a finite number"),
        ({"algorithm": "magic"}, "expected one of"),
        ({"fill_holes": "maybe"}, "true or false"),
        ({"slice_normal": [1, 2]}, "three finite numbers"),
    ],
)
def test_bad_values_name_the_parameter(updates, message):
    with pytest.raises(ParameterError, match=message):
        validate_updates(updates)


def test_unknown_parameter_lists_valid_names():
    with pytest.raises(ParameterError) as error:
        validate_updates({"brush_size": 3})
    assert "unknown parameter 'brush_size'" in str(error.value)
    assert "brush_radius_mm" in str(error.value) and "edge_sensitivity" in str(error.value)
    assert parameter_names() == sorted(PARAMETERS)


def test_unknown_preset_lists_valid_presets():
    with pytest.raises(ParameterError) as error:
        validate_updates({"preset": "ct_unobtainium"})
    for name in PRESETS:
        assert name in str(error.value)


def test_preset_expands_and_explicit_values_win():
    name = next(iter(PRESETS))
    preset = PRESETS[name]["parameters"]
    expanded = validate_updates({"preset": name, "brush_radius_mm": 42.0})
    assert expanded["brush_radius_mm"] == 42.0
    for key in preset:
        if key != "brush_radius_mm":
            assert expanded[key] == PARAMETERS[key].validate(preset[key])


def test_with_updates_is_all_or_nothing():
    params = BrushParameters({"brush_radius_mm": 10})
    with pytest.raises(ParameterError):
        params.with_updates({"edge_sensitivity": 60, "brush_radius_mm": -1})
    assert params["brush_radius_mm"] == 10.0 and params["edge_sensitivity"] == 40.0
    updated = params.with_updates({"edge_sensitivity": 60})
    assert updated["edge_sensitivity"] == 60.0 and params["edge_sensitivity"] == 40.0
    assert updated.changed_from_defaults() == {"brush_radius_mm": 10.0, "edge_sensitivity": 60.0}


def test_values_are_normalised():
    params = BrushParameters(
        {"brush_radius_mm": "12", "fill_holes": "false", "slice_normal": [0, 0, 2]}
    )
    assert params["brush_radius_mm"] == 12.0
    assert params["fill_holes"] is False
    assert params["slice_normal"] == (0.0, 0.0, 2.0)
    assert BrushParameters(dict(params)) == params
