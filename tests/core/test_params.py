"""Parameter registry: defaults, ranges, unknown names, presets, immutability."""

from __future__ import annotations

import json
import math

import numpy as np
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


def test_numpy_values_become_plain_python_values():
    params = BrushParameters(
        {
            "brush_radius_mm": np.int64(12),
            "edge_sensitivity": np.float32(10),
            "gmm_components": np.int64(4),
            "fill_holes": np.bool_(False),
            "keep_seed_component": np.True_,
            "slice_normal": np.array([0, 0, 2]),
            "sampling_method": np.str_("gmm"),
        }
    )

    assert type(params["brush_radius_mm"]) is float and params["brush_radius_mm"] == 12.0
    assert type(params["edge_sensitivity"]) is float and params["edge_sensitivity"] == 10.0
    assert type(params["gmm_components"]) is int and params["gmm_components"] == 4
    assert params["fill_holes"] is False and params["keep_seed_component"] is True
    assert params["slice_normal"] == (0.0, 0.0, 2.0)
    assert all(type(component) is float for component in params["slice_normal"])
    assert type(params["sampling_method"]) is str
    assert BrushParameters(dict(params)) == params


def test_vectors_accept_lists_tuples_and_arrays():
    for vector in ([0, 1, 2], (0, 1, 2), np.array([0.0, 1.0, 2.0]), [np.int64(0), 1, 2.0]):
        assert validate_updates({"slice_normal": vector}) == {"slice_normal": (0.0, 1.0, 2.0)}


def test_values_survive_the_node_attribute_json_round_trip():
    # The effect stores each value with json.dumps (tuples as lists) in a node attribute
    # and reads it back with json.loads: that must give the same parameter set.
    params = BrushParameters(
        {
            "brush_radius_mm": np.float32(7.5),
            "fill_holes": np.bool_(False),
            "gmm_components": np.int64(5),
            "slice_normal": np.array([0.0, 0.6, 0.8]),
        }
    )
    stored = {
        name: json.dumps(list(value) if isinstance(value, tuple) else value)
        for name, value in params.items()
    }

    restored = BrushParameters({name: json.loads(text) for name, text in stored.items()})

    assert restored == params


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("brush_radius_mm", " 1_0 "),
        ("brush_radius_mm", "12"),
        ("gmm_components", "3"),
        ("fill_holes", "TRUE"),
        ("fill_holes", "false"),
        ("slice_normal", ["0", "0", "1"]),
    ],
)
def test_strings_are_not_read_as_numbers_or_booleans(name, value):
    with pytest.raises(ParameterError) as error:
        validate_updates({name: value})

    assert f"parameter '{name}'" in str(error.value)
    if isinstance(value, str):
        assert "without quotes" in str(error.value)


@pytest.mark.parametrize("value", [{1, 2, 3}, frozenset({1.0, 2.0, 3.0}), {"r": 1, "a": 2, "s": 3}])
def test_unordered_collections_are_not_vectors(value):
    with pytest.raises(ParameterError, match="three finite numbers"):
        validate_updates({"slice_normal": value})


def test_set_error_says_sets_have_no_order():
    with pytest.raises(ParameterError, match="a set has no order"):
        validate_updates({"slice_normal": {0, 1, 2}})


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        ("brush_radius_mm", 10**400, "<integer of about 401 digits>"),
        ("brush_radius_mm", -(10**5000), "<integer of about 5001 digits>"),
        ("gmm_components", 10**400, "<integer of about 401 digits>"),
    ],
    ids=["radius-400-digits", "radius-5001-digits", "components-400-digits"],
)
def test_integers_too_large_for_a_float_are_out_of_range(name, value, shown):
    with pytest.raises(ParameterError) as error:
        validate_updates({name: value})

    assert str(error.value).startswith(f"parameter '{name}': {shown} is out of range [")


@pytest.mark.parametrize(
    "value", [10**400, 10**5000, [10**400, 0, 1]], ids=["400-digits", "5001-digits", "in-list"]
)
def test_huge_integers_in_vectors_are_rejected_with_a_short_message(value):
    with pytest.raises(ParameterError) as error:
        validate_updates({"slice_normal": value})

    assert len(str(error.value)) < 200


def test_numpy_bool_is_not_a_number():
    with pytest.raises(ParameterError, match="expected a finite number"):
        validate_updates({"edge_sensitivity": np.bool_(True)})
