"""Recipe model: constructors, validation errors with field and index, labels, JSON I/O."""

from __future__ import annotations

import json
import math
import os
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from SegmentEditorAdaptiveBrushLib.core.presets import PRESETS
from SegmentEditorAdaptiveBrushTesterLib.core import recipe as recipe_module
from SegmentEditorAdaptiveBrushTesterLib.core.recipe import (
    ACTION_TYPES,
    FORMAT_VERSION,
    ActionRecipe,
    GoldStandard,
    RecipeAction,
    RecipeError,
    RecipeNotFoundError,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = (
    ROOT
    / "SegmentEditorAdaptiveBrushTester"
    / "SegmentEditorAdaptiveBrushTesterLib"
    / "Recipes"
    / "example_all_actions.json"
)
CT = "connected_threshold"


def full_recipe() -> ActionRecipe:
    """A recipe that uses every action type, a drag, a 2D brush, extensions and metadata."""
    actions = [
        RecipeAction.set_algorithm(CT, brush_radius_mm=12),
        RecipeAction.paint((10.5, -20.25, 30.0)),
        RecipeAction.paint(
            (1, 2, 3), path=[(2, 2, 3), (3, 2.5, 3)], brush_mode="2d", slice_orientation="axial"
        ),
        RecipeAction.set_param("edge_sensitivity", 60, ras=(4, 5, 6)),
        RecipeAction.set_param("preset", "ct_lung", description="lung preset"),
        RecipeAction.erase(
            (7, 8, 9),
            brush_mode="2d",
            slice_orientation="oblique",
            slice_normal=(0, 0.6, 0.8),
        ),
        RecipeAction.set_param(params={"fill_holes": False, "gmm_components": 4}),
    ]
    for index, action in enumerate(actions):
        action.timestamp = 1_700_000_000.25 + index
    actions[1].extensions = {"x_pressure": [0.5, 0.7]}
    return ActionRecipe(
        name="full",
        sample_data="MRHead",
        segment_name="tumour",
        actions=actions,
        gold_standard=GoldStandard("reference.seg.nrrd", segment="Tumour"),
        description="all features",
        metadata={
            "created": "2026-01-02T03:04:05+00:00",
            "parent_recipe": "base",
            "branch_step": 3,
        },
        extensions={"x_tool": {"version": "0.1"}},
    )


def minimal_dict(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "m",
        "segment_name": "s",
        "actions": [
            {"type": "paint", "ras": [1, 2, 3], "params": {}, "timestamp": 1.0},
            {"type": "set_param", "ras": None, "params": {"edge_sensitivity": 10}},
        ],
    }
    data.update(changes)
    return data


def with_action(action: dict[str, Any], index: int = 1) -> dict[str, Any]:
    data = minimal_dict()
    data["actions"][index] = action
    return data


# --- constructors ------------------------------------------------------------------------


def test_paint_merges_keyword_parameters_and_normalises_values() -> None:
    before = time.time()
    action = RecipeAction.paint(
        (1, 2, 3), {"edge_sensitivity": 55}, algorithm=CT, brush_radius_mm=10
    )

    assert action.type == "paint"
    assert action.ras == (1.0, 2.0, 3.0)
    assert all(isinstance(v, float) for v in action.ras)
    assert action.params == {"edge_sensitivity": 55.0, "algorithm": CT, "brush_radius_mm": 10.0}
    assert action.path == []
    assert action.description == ""
    assert before <= action.timestamp <= time.time()


def test_erase_keeps_drag_path_as_float_points() -> None:
    action = RecipeAction.erase([0, 0, 0], path=[[1, 0, 0], (2, 0, 0)], description="rub out")

    assert action.type == "erase"
    assert action.path == [(1.0, 0.0, 0.0), (2.0, 0.0, 0.0)]
    assert action.description == "rub out"


def test_set_param_single_value_dict_and_preset() -> None:
    single = RecipeAction.set_param("edge_sensitivity", 60)
    several = RecipeAction.set_param(params={"std_multiplier": 2.5, "fill_holes": False})
    preset = RecipeAction.set_param("preset", "ct_lung")

    assert (single.type, single.ras, single.params) == (
        "set_param",
        None,
        {"edge_sensitivity": 60.0},
    )
    assert several.params == {"std_multiplier": 2.5, "fill_holes": False}
    assert preset.params == {"preset": "ct_lung"}


def test_set_param_needs_exactly_one_form() -> None:
    with pytest.raises(RecipeError) as neither:
        RecipeAction.set_param()
    with pytest.raises(RecipeError) as both:
        RecipeAction.set_param("edge_sensitivity", 1, params={"edge_sensitivity": 2})

    assert neither.value.field == "params"
    assert both.value.field == "params"


def test_set_algorithm_puts_algorithm_first_with_extra_parameters() -> None:
    action = RecipeAction.set_algorithm(CT, brush_radius_mm=7, ras=(1, 1, 1))

    assert action.type == "set_algorithm"
    assert list(action.params) == ["algorithm", "brush_radius_mm"]
    assert action.params == {"algorithm": CT, "brush_radius_mm": 7.0}
    assert action.ras == (1.0, 1.0, 1.0)


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: RecipeAction.paint(cast(Any, (1, "x", 2))), "ras"),
        (lambda: RecipeAction.paint(cast(Any, None)), "ras"),
        (lambda: RecipeAction.paint((1, 2, 3), brush_radius_mm=0.5), "params.brush_radius_mm"),
        (lambda: RecipeAction.paint((1, 2, 3), algorithm="nonexistent"), "params.algorithm"),
        (lambda: RecipeAction.paint((1, 2, 3), brush_radus_mm=5), "params.brush_radus_mm"),
        (
            lambda: RecipeAction.paint((1, 2, 3), {"fill_holes": 1}, fill_holes=0),
            "params.fill_holes",
        ),
        (lambda: RecipeAction.erase((1, 2, 3), path=[(1, 2)]), "path[0]"),
        (lambda: RecipeAction.set_param("preset", "no_such_preset"), "params.preset"),
        (lambda: RecipeAction.set_algorithm(CT, ras=(math.nan, 0, 0)), "ras"),
        (lambda: RecipeAction.paint((1, 2, 3), slice_orientation="oblique"), "params.slice_normal"),
        (lambda: RecipeAction.paint((1, 2, 3), slice_normal=(0, 0, 0)), "params.slice_normal"),
    ],
)
def test_constructors_validate_immediately(build: Any, field: str) -> None:
    with pytest.raises(RecipeError) as caught:
        build()

    assert caught.value.field == field
    assert caught.value.action_index is None
    assert f"field '{field}'" in str(caught.value)


def test_direct_construction_is_validated_too() -> None:
    with pytest.raises(RecipeError) as caught:
        RecipeAction("set_param", None, {})
    with pytest.raises(RecipeError) as path_on_param:
        RecipeAction("set_param", None, {"edge_sensitivity": 1}, path=[(1, 2, 3)])

    assert caught.value.field == "params"
    assert path_on_param.value.field == "path"


def test_error_message_names_index_and_field() -> None:
    error = RecipeError(
        "expected three finite numbers, got [1, 'x', 2]", action_index=3, field="ras"
    )

    assert str(error) == "action 3: field 'ras': expected three finite numbers, got [1, 'x', 2]"
    assert isinstance(error, ValueError)


# --- validation when loading -------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "field", "fragment"),
    [
        ({"type": "spray", "ras": [1, 2, 3]}, "type", "unknown action type 'spray'"),
        ({"ras": [1, 2, 3]}, "type", "missing"),
        ({"type": "paint", "params": {}}, "ras", "missing"),
        ({"type": "paint", "ras": None}, "ras", "missing"),
        ({"type": "paint", "ras": [1, "x", 2]}, "ras", "got [1, 'x', 2]"),
        ({"type": "paint", "ras": [1, 2]}, "ras", "three finite numbers"),
        ({"type": "paint", "ras": [1, 2, 3, 4]}, "ras", "three finite numbers"),
        ({"type": "paint", "ras": "1,2,3"}, "ras", "three finite numbers"),
        ({"type": "paint", "ras": [1, 2, math.inf]}, "ras", "three finite numbers"),
        ({"type": "paint", "ras": [1, True, 3]}, "ras", "three finite numbers"),
        ({"type": "erase", "ras": [1, 2, 3], "path": [[1, 2, math.nan]]}, "path[0]", "finite"),
        ({"type": "erase", "ras": [1, 2, 3], "path": 5}, "path", "list of RAS points"),
        (
            {"type": "paint", "ras": [0, 0, 0], "params": {"brush_radius_mm": 101}},
            "params.brush_radius_mm",
            "out of range [1, 100] mm",
        ),
        (
            {"type": "paint", "ras": [0, 0, 0], "params": {"algorithm": "magic"}},
            "params.algorithm",
            "'magic'",
        ),
        (
            {"type": "paint", "ras": [0, 0, 0], "params": {"colour": 1}},
            "params.colour",
            "unknown parameter 'colour'",
        ),
        ({"type": "paint", "ras": [0, 0, 0], "params": [1]}, "params", "expected an object"),
        (
            {"type": "set_param", "params": {"preset": "bone"}},
            "params.preset",
            "unknown preset 'bone'",
        ),
        ({"type": "set_param", "params": {}}, "params", "at least one parameter"),
        (
            {"type": "set_algorithm", "params": {"brush_radius_mm": 5}},
            "params.algorithm",
            "missing",
        ),
        ({"type": "paint", "ras": [0, 0, 0], "timestamp": "noon"}, "timestamp", "finite number"),
        ({"type": "paint", "ras": [0, 0, 0], "timestamp": math.nan}, "timestamp", "finite number"),
        ({"type": "paint", "ras": [0, 0, 0], "description": 5}, "description", "string"),
        ({"type": "paint", "ras": [0, 0, 0], "radius": 5}, "radius", "unknown field"),
    ],
)
def test_bad_action_names_field_and_index(
    action: dict[str, Any], field: str, fragment: str
) -> None:
    with pytest.raises(RecipeError) as caught:
        ActionRecipe.from_dict(with_action(action, index=1))

    assert caught.value.action_index == 1
    assert caught.value.field == field
    assert str(caught.value).startswith(f"action 1: field '{field}': ")
    assert fragment in str(caught.value)


def test_action_that_is_not_an_object_names_index() -> None:
    with pytest.raises(RecipeError) as caught:
        ActionRecipe.from_dict(with_action([1, 2, 3], index=0))  # type: ignore[arg-type]

    assert caught.value.action_index == 0
    assert caught.value.field is None


def test_non_finite_coordinates_in_json_text_are_rejected() -> None:
    text = json.dumps(minimal_dict()).replace("[1, 2, 3]", "[1, NaN, 3]")

    with pytest.raises(RecipeError) as caught:
        ActionRecipe.from_json(text)

    assert (caught.value.action_index, caught.value.field) == (0, "ras")


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"name": None}, "name", "expected a string"),
        ({"name": "  "}, "name", "must not be empty"),
        ({"segment_name": 3}, "segment_name", "expected a string"),
        ({"actions": {"type": "paint"}}, "actions", "expected a list"),
        ({"sampel_data": "MRHead"}, "sampel_data", "unknown field"),
        ({"format_version": 2}, "format_version", "newer than this tool reads"),
        ({"format_version": "1"}, "format_version", "positive integer"),
        ({"format_version": 0}, "format_version", "positive integer"),
        ({"gold_standard": 5}, "gold_standard", "path string or an object"),
        ({"gold_standard": {"segment": "x"}}, "gold_standard.source", "missing"),
        ({"gold_standard": {"source": "a", "label": 1}}, "gold_standard.label", "unknown field"),
        ({"metadata": []}, "metadata", "expected an object"),
        ({"metadata": {"branch_step": -2}}, "metadata.branch_step", ">= -1"),
        ({"metadata": {"parent_recipe": 7}}, "metadata.parent_recipe", "string"),
    ],
)
def test_bad_recipe_fields_are_named(changes: dict[str, Any], field: str, fragment: str) -> None:
    with pytest.raises(RecipeError) as caught:
        ActionRecipe.from_dict(minimal_dict(**changes))

    assert caught.value.action_index is None
    assert caught.value.field == field
    assert fragment in str(caught.value)


@pytest.mark.parametrize("key", ["name", "segment_name", "actions"])
def test_missing_required_field(key: str) -> None:
    data = minimal_dict()
    del data[key]

    with pytest.raises(RecipeError) as caught:
        ActionRecipe.from_dict(data)

    assert caught.value.field == key
    assert "missing" in str(caught.value)


def test_sample_data_defaults_to_embedded_ct_and_version_less_file_is_version_1() -> None:
    recipe = ActionRecipe.from_dict(minimal_dict())

    assert recipe.sample_data == "default"
    assert recipe.to_dict()["format_version"] == FORMAT_VERSION == 1
    assert recipe.actions[1].timestamp == 0.0  # absent: unknown


def test_wrong_json_reports_line_and_column() -> None:
    text = '{\n  "name": "x",\n  "actions": [,]\n}'

    with pytest.raises(RecipeError) as caught:
        ActionRecipe.from_json(text)

    assert "not valid JSON at line 3, column 15" in str(caught.value)
    assert caught.value.field is None


@pytest.mark.parametrize("text", ["[]", '"recipe"', "3"])
def test_top_level_must_be_an_object(text: str) -> None:
    with pytest.raises(RecipeError, match="expected a JSON object at the top level"):
        ActionRecipe.from_json(text)


def test_duplicate_keys_are_rejected() -> None:
    with pytest.raises(RecipeError) as caught:
        ActionRecipe.from_json('{"name": "a", "name": "b", "segment_name": "s", "actions": []}')

    assert caught.value.field == "name"
    assert "twice" in str(caught.value)


def test_python_construction_validates_actions_with_index() -> None:
    good = RecipeAction.paint((1, 2, 3))
    bad = RecipeAction.paint((1, 2, 3))
    bad.ras = (1.0, math.inf, 3.0)

    with pytest.raises(RecipeError) as caught:
        ActionRecipe("r", segment_name="s", actions=[good, bad])
    with pytest.raises(RecipeError) as no_segment:
        ActionRecipe("r", actions=[good])
    with pytest.raises(RecipeError) as not_an_action:
        ActionRecipe("r", segment_name="s", actions=[good, cast(Any, {"type": "paint"})])

    assert (caught.value.action_index, caught.value.field) == (1, "ras")
    assert no_segment.value.field == "segment_name"
    assert not_an_action.value.action_index == 1


# --- round trip --------------------------------------------------------------------------


def test_every_field_survives_json_round_trip() -> None:
    original = full_recipe()

    copy = ActionRecipe.from_json(original.to_json())

    assert copy == original
    assert copy.to_dict() == original.to_dict()
    assert copy.actions[2].path == [(2.0, 2.0, 3.0), (3.0, 2.5, 3.0)]
    assert copy.actions[3].ras == (4.0, 5.0, 6.0)
    assert copy.actions[4].params == {"preset": "ct_lung"}
    assert copy.actions[4].description == "lung preset"
    assert copy.actions[5].params["slice_normal"] == (0.0, 0.6, 0.8)
    assert copy.actions[6].params == {"fill_holes": False, "gmm_components": 4}
    assert [a.timestamp for a in copy.actions] == [1_700_000_000.25 + i for i in range(7)]
    assert copy.actions[1].extensions == {"x_pressure": [0.5, 0.7]}
    assert copy.gold_standard == GoldStandard("reference.seg.nrrd", "Tumour")
    assert copy.metadata == {
        "created": "2026-01-02T03:04:05+00:00",
        "parent_recipe": "base",
        "branch_step": 3,
    }
    assert copy.extensions == {"x_tool": {"version": "0.1"}}
    assert (copy.name, copy.sample_data, copy.segment_name, copy.description) == (
        "full",
        "MRHead",
        "tumour",
        "all features",
    )


def test_json_layout_has_version_objects_and_one_line_points() -> None:
    text = full_recipe().to_json()
    data = json.loads(text)

    assert data["format_version"] == 1
    assert data["gold_standard"] == {"source": "reference.seg.nrrd", "segment": "Tumour"}
    assert data["x_tool"] == {"version": "0.1"}
    assert data["actions"][1]["x_pressure"] == [0.5, 0.7]
    assert "path" not in data["actions"][1]  # clicks stay readable by tools without drags
    assert data["actions"][2]["path"] == [[2.0, 2.0, 3.0], [3.0, 2.5, 3.0]]
    assert '"ras": [10.5, -20.25, 30.0]' in text
    assert '\n  "name": "full"' in text


def test_gold_standard_plain_string_form() -> None:
    recipe = ActionRecipe.from_dict(minimal_dict(gold_standard="default"))

    assert recipe.gold_standard == GoldStandard("default", None)
    assert recipe.gold_standard.segment_for("s") == "s"
    assert recipe.to_dict()["gold_standard"] == {"source": "default", "segment": None}


def test_equality_ignores_source_dir_but_not_content() -> None:
    first = ActionRecipe.from_dict(minimal_dict(), source_dir="/a")
    second = ActionRecipe.from_dict(minimal_dict(), source_dir="/b")
    second.metadata["created"] = first.metadata["created"]

    assert first == second
    second.actions[0].ras = (9.0, 9.0, 9.0)
    assert first != second


def test_created_is_filled_in_utc_and_kept() -> None:
    recipe = ActionRecipe("r", segment_name="s")
    kept = ActionRecipe("r", segment_name="s", metadata={"created": "2020-01-01T00:00:00+00:00"})

    created = datetime.fromisoformat(recipe.metadata["created"])
    assert created.utcoffset() == timezone.utc.utcoffset(None)
    assert abs((datetime.now(timezone.utc) - created).total_seconds()) < 60
    assert kept.metadata["created"] == "2020-01-01T00:00:00+00:00"


def test_total_steps_and_len() -> None:
    recipe = full_recipe()
    empty = ActionRecipe("empty", segment_name="s")

    assert len(recipe) == 7
    assert recipe.total_steps == 7
    assert recipe.total_steps() == 7
    assert (len(empty), empty.total_steps()) == (0, 0)
    assert bool(empty) is True  # a recipe without steps is still a recipe


# --- files -------------------------------------------------------------------------------


def test_save_and_load_round_trip_sets_source_dir(tmp_path: Path) -> None:
    original = full_recipe()
    path = tmp_path / "full.json"

    original.save(path)
    loaded = ActionRecipe.load(path)

    assert loaded == original
    assert loaded.source_dir == str(tmp_path)
    assert path.read_text(encoding="utf-8").endswith("}\n")
    assert [p.name for p in tmp_path.iterdir()] == ["full.json"]


def test_failed_write_leaves_existing_file_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "recipe.json"
    path.write_text("previous content", encoding="utf-8")

    def broken_fsync(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(recipe_module.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        full_recipe().save(path)

    assert path.read_text(encoding="utf-8") == "previous content"
    assert [p.name for p in tmp_path.iterdir()] == ["recipe.json"]


def test_invalid_recipe_is_never_written(tmp_path: Path) -> None:
    path = tmp_path / "recipe.json"
    path.write_text("previous content", encoding="utf-8")
    recipe = full_recipe()
    recipe.actions[0].params["brush_radius_mm"] = 1000.0

    with pytest.raises(RecipeError) as caught:
        recipe.save(path)

    assert (caught.value.action_index, caught.value.field) == (0, "params.brush_radius_mm")
    assert path.read_text(encoding="utf-8") == "previous content"


def test_save_keeps_file_mode(tmp_path: Path) -> None:
    path = tmp_path / "recipe.json"
    path.write_text("{}", encoding="utf-8")
    os.chmod(path, 0o640)

    full_recipe().save(path)

    assert os.stat(path).st_mode & 0o777 == 0o640


def test_missing_file_is_a_file_not_found_recipe_error(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.json"

    with pytest.raises(RecipeNotFoundError) as caught:
        ActionRecipe.load(path)

    assert isinstance(caught.value, FileNotFoundError)
    assert isinstance(caught.value, RecipeError)
    assert str(path) in str(caught.value)


def test_load_errors_name_the_file_and_action(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(with_action({"type": "paint", "ras": [1, "x", 2]})), "utf-8")

    with pytest.raises(RecipeError) as caught:
        ActionRecipe.load(path)

    assert str(caught.value) == (
        f"{path}: action 1: field 'ras': expected three finite numbers, got [1, 'x', 2]"
    )
    assert caught.value.source == str(path)


def test_version_less_file_from_earlier_tools_loads(tmp_path: Path) -> None:
    legacy = {
        "name": "legacy",
        "description": "recorded before format_version existed",
        "sample_data": "MRBrainTumor1",
        "segment_name": "Tumor",
        "gold_standard": "gold.seg.nrrd",
        "actions": [
            {
                "type": "set_algorithm",
                "ras": None,
                "params": {"algorithm": CT},
                "timestamp": 1690000000.5,
                "description": "",
            },
            {
                "type": "paint",
                "ras": [-5.5, 30.0, 12.25],
                "params": {"brush_radius_mm": 8, "edge_sensitivity": 50},
                "timestamp": 1690000001.0,
                "description": "first click",
            },
        ],
    }
    path = tmp_path / "legacy.json"
    path.write_text(json.dumps(legacy, indent=4), encoding="utf-8")

    recipe = ActionRecipe.load(path)

    assert recipe.name == "legacy"
    assert recipe.actions[1].ras == (-5.5, 30.0, 12.25)
    assert recipe.actions[1].params == {"brush_radius_mm": 8.0, "edge_sensitivity": 50.0}
    assert recipe.labels() == ["set algorithm connected_threshold", "first click"]
    assert recipe.gold_standard is not None
    assert recipe.resolve_path(recipe.gold_standard.source) == str(tmp_path / "gold.seg.nrrd")


def test_resolve_path() -> None:
    recipe = ActionRecipe("r", segment_name="s", source_dir=os.path.join(os.sep, "data", "recipes"))
    unbound = ActionRecipe("r", segment_name="s")
    absolute = os.path.join(os.sep, "images", "ct.nrrd")

    assert recipe.resolve_path("default") == "default"
    assert recipe.resolve_path("MRHead") == "MRHead"
    assert recipe.resolve_path("ct.nrrd") == os.path.join(os.sep, "data", "recipes", "ct.nrrd")
    assert recipe.resolve_path("../x/ct.nrrd") == os.path.join(os.sep, "data", "x", "ct.nrrd")
    assert recipe.resolve_path(absolute) == absolute
    assert unbound.resolve_path("ct.nrrd") == "ct.nrrd"


def test_example_recipe_is_valid_and_uses_every_action_type() -> None:
    recipe = ActionRecipe.load(EXAMPLE)

    assert {action.type for action in recipe.actions} == set(ACTION_TYPES)
    assert any(action.path for action in recipe.actions)
    assert any(action.params.get("brush_mode") == "2d" for action in recipe.actions)
    algorithms = {a.params["algorithm"] for a in recipe.actions if "algorithm" in a.params}
    assert algorithms == {CT}
    assert recipe.sample_data == "default"
    assert recipe.gold_standard == GoldStandard("default", "right lung")
    assert json.loads(recipe.to_json()) == json.loads(EXAMPLE.read_text(encoding="utf-8"))


# --- labels ------------------------------------------------------------------------------


def test_label_from_params_and_from_state() -> None:
    own = RecipeAction.paint((12, -4.5, 30.2), algorithm=CT, brush_radius_mm=10)
    bare = RecipeAction.paint((12, -4.5, 30.2))
    state = {"algorithm": "watershed", "brush_radius_mm": 10.0}

    assert own.label() == "paint, connected_threshold, r=10 mm at R 12.0 A -4.5 S 30.2"
    assert bare.label(state) == "paint, watershed, r=10 mm at R 12.0 A -4.5 S 30.2"
    assert bare.label() == "paint at R 12.0 A -4.5 S 30.2"
    assert own.label(state).startswith("paint, connected_threshold, r=10 mm")


def test_label_for_drag_2d_erase_and_parameter_changes() -> None:
    drag = RecipeAction.erase(
        (0, 0, -0.01), path=[(1, 0, 0), (2, 0, 0)], brush_mode="2d", slice_orientation="coronal"
    )
    oblique = RecipeAction.paint(
        (0, 0, 0), brush_mode="2d", slice_orientation="oblique", slice_normal=(1, 1, 0)
    )

    assert drag.label() == "erase, 2D coronal, drag of 3 points from R 0.0 A 0.0 S 0.0"
    assert (
        oblique.label({"brush_radius_mm": 2.5})
        == "paint, r=2.5 mm, 2D oblique at R 0.0 A 0.0 S 0.0"
    )
    assert RecipeAction.set_param("edge_sensitivity", 60).label() == "set edge_sensitivity = 60"
    assert RecipeAction.set_param("fill_holes", False).label() == "set fill_holes = false"
    assert RecipeAction.set_param("preset", "ct_lung").label() == "set preset = ct_lung"
    assert RecipeAction.set_algorithm(CT).label() == "set algorithm connected_threshold"
    assert (
        RecipeAction.set_algorithm(CT, brush_radius_mm=3).label()
        == "set algorithm connected_threshold, brush_radius_mm = 3"
    )
    assert RecipeAction.paint((0, 0, 0), description="lung apex").label() == "lung apex"


def test_recipe_labels_carry_parameters_forward_including_presets() -> None:
    recipe = ActionRecipe(
        "r",
        segment_name="s",
        actions=[
            RecipeAction.set_param("brush_radius_mm", 15),
            RecipeAction.set_param("preset", "ct_lung"),
            RecipeAction.paint((1, 2, 3)),
            RecipeAction.paint((1, 2, 3), brush_radius_mm=4, brush_mode="2d"),
            RecipeAction.erase((1, 2, 3)),
        ],
    )

    # The preset's own algorithm, whichever it is: the labels test the carrying forward.
    lung = PRESETS["ct_lung"]["parameters"]["algorithm"]

    labels = recipe.labels()

    assert labels[2] == f"paint, {lung}, r=15 mm at R 1.0 A 2.0 S 3.0"
    assert labels[3] == f"paint, {lung}, r=4 mm, 2D at R 1.0 A 2.0 S 3.0"
    assert labels[4] == f"erase, {lung}, r=4 mm, 2D at R 1.0 A 2.0 S 3.0"
    assert recipe.labels({"slice_orientation": "axial"})[4].endswith(
        "2D axial at R 1.0 A 2.0 S 3.0"
    )


# --- malformed input: always a RecipeError that says where -------------------------------

HUGE = "9" * 400  # parses, but no float can hold it
HUGER = "9" * 5000  # more digits than Python converts to an int


def text_with(placeholder_value: str, data: dict[str, Any]) -> str:
    """JSON text of ``data`` with the string "@" replaced by raw JSON text."""
    return json.dumps(data).replace('"@"', placeholder_value)


@pytest.mark.parametrize("digits", [HUGE, HUGER], ids=["400-digits", "5000-digits"])
@pytest.mark.parametrize(
    ("data", "index", "field"),
    [
        (with_action({"type": "paint", "ras": [0, 0, 0], "params": {"brush_radius_mm": "@"}}),
         1, "params.brush_radius_mm"),
        (with_action({"type": "paint", "ras": ["@", 0, 0]}), 1, "ras"),
        (with_action({"type": "erase", "ras": [0, 0, 0], "path": [[0, "@", 0]]}), 1, "path[0]"),
        (with_action({"type": "paint", "ras": [0, 0, 0], "timestamp": "@"}), 1, "timestamp"),
        (minimal_dict(format_version="@"), None, "format_version"),
    ],
)  # fmt: skip
def test_huge_integers_give_a_located_recipe_error(
    digits: str, data: dict[str, Any], index: int | None, field: str
) -> None:
    with pytest.raises(RecipeError) as caught:
        ActionRecipe.from_json(text_with(digits, data))

    assert type(caught.value) is RecipeError
    assert (caught.value.action_index, caught.value.field) == (index, field)
    assert len(str(caught.value)) < 300  # the digits are described, not printed


@pytest.mark.parametrize(
    ("data", "index", "field"),
    [
        (with_action({"type": "paint", "ras": [0, 0, 0], "x_data": ["@"]}), 1, "x_data"),
        (minimal_dict(x_tool={"n": "@"}), None, "x_tool"),
        (minimal_dict(metadata={"branch_step": "@"}), None, "metadata.branch_step"),
        (minimal_dict(metadata={"notes": "@"}), None, "metadata.notes"),
    ],
)
def test_free_form_integers_are_kept_unless_json_cannot_write_them(
    data: dict[str, Any], index: int | None, field: str
) -> None:
    kept = ActionRecipe.from_json(text_with(HUGE, data))
    with pytest.raises(RecipeError) as caught:
        ActionRecipe.from_json(text_with(HUGER, data))

    assert ActionRecipe.from_json(kept.to_json()) == kept
    assert HUGE in kept.to_json()
    assert (caught.value.action_index, caught.value.field) == (index, field)
    assert str(caught.value).endswith("<integer of 5000 digits> is too large to be written as JSON")


def test_huge_integer_in_a_loaded_file_names_file_action_and_field(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    data = with_action({"type": "paint", "ras": [0, 0, 0], "params": {"brush_radius_mm": "@"}})
    path.write_text(text_with(HUGER, data), encoding="utf-8")

    with pytest.raises(RecipeError) as caught:
        ActionRecipe.load(path)

    assert str(caught.value) == (
        f"{path}: action 1: field 'params.brush_radius_mm': got <integer of 5000 digits>, "
        "expected a finite number"
    )


def test_huge_integers_from_python_give_recipe_errors_with_short_messages() -> None:
    with pytest.raises(RecipeError) as ras:
        RecipeAction.paint((10**5000, 0, 0))
    with pytest.raises(RecipeError) as radius:
        RecipeAction.paint((0, 0, 0), brush_radius_mm=10**400)
    with pytest.raises(RecipeError) as extension:
        ActionRecipe("r", segment_name="s", extensions={"x_n": 10**5000})

    assert ras.value.field == "ras" and "<integer of about 5001 digits>" in str(ras.value)
    assert radius.value.field == "params.brush_radius_mm" and "out of range" in str(radius.value)
    assert extension.value.field == "x_n" and "too large" in str(extension.value)


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize("levels", [150, 100_000])
def test_deeply_nested_extension_data_is_a_recipe_error(levels: int) -> None:
    text = text_with(nested(levels), minimal_dict(x_deep="@"))

    with pytest.raises(RecipeError) as caught:
        ActionRecipe.from_json(text)

    assert type(caught.value) is RecipeError
    assert "nested deeper than 100 levels" in str(caught.value)
    if levels == 150:
        assert caught.value.field == "x_deep"
    else:
        # Too deep for the JSON parser itself: the position is given instead.
        assert "at line 1, column" in str(caught.value)


def test_deeply_nested_action_extension_names_the_action() -> None:
    text = text_with(nested(150), with_action({"type": "paint", "ras": [0, 0, 0], "x_d": "@"}))

    with pytest.raises(RecipeError) as caught:
        ActionRecipe.from_json(text)

    assert (caught.value.action_index, caught.value.field) == (1, "x_d")


def test_self_containing_extension_data_is_a_recipe_error() -> None:
    loop: list[Any] = []
    loop.append(loop)

    with pytest.raises(RecipeError) as caught:
        ActionRecipe("r", segment_name="s", extensions={"x_loop": loop})

    assert caught.value.field == "x_loop"


def test_nesting_up_to_the_limit_is_kept() -> None:
    value: Any = "leaf"
    for _ in range(recipe_module.MAX_NESTING):
        value = [value]
    recipe = ActionRecipe("r", segment_name="s", extensions={"x_deep": value})

    assert ActionRecipe.from_json(recipe.to_json()).extensions == {"x_deep": value}


def test_folder_instead_of_file_is_a_recipe_error(tmp_path: Path) -> None:
    with pytest.raises(RecipeError) as caught:
        ActionRecipe.load(tmp_path)

    assert not isinstance(caught.value, FileNotFoundError)
    assert caught.value.source == str(tmp_path)
    assert str(caught.value).startswith(f"{tmp_path}: is a folder, not a recipe file")


@pytest.mark.parametrize("path", [None, 3, "", ["a.json"]])
def test_load_and_save_need_a_file_path(path: Any, tmp_path: Path) -> None:
    with pytest.raises(RecipeError, match="expected the path of a recipe file") as loading:
        ActionRecipe.load(path)
    with pytest.raises(RecipeError, match="expected the path of a recipe file"):
        full_recipe().save(path)

    assert type(loading.value) is RecipeError
    assert list(tmp_path.iterdir()) == []


def test_path_with_nul_character_is_a_recipe_error() -> None:
    with pytest.raises(RecipeError, match="not a usable file path"):
        ActionRecipe.load("recipe\0.json")


def test_file_with_byte_order_mark_loads(tmp_path: Path) -> None:
    original = full_recipe()
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + original.to_json().encode("utf-8"))

    assert ActionRecipe.load(path) == original
    assert ActionRecipe.from_json("\ufeff" + original.to_json()) == original
    assert ActionRecipe.from_json(b"\xef\xbb\xbf" + original.to_json().encode()) == original


def test_file_that_is_not_utf8_names_the_file_and_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes(json.dumps(minimal_dict(name="Lunge ä"), ensure_ascii=False).encode("latin-1"))

    with pytest.raises(RecipeError) as caught:
        ActionRecipe.load(path)

    assert str(caught.value).startswith(f"{path}: not UTF-8 text (invalid ")
    assert "at byte 16" in str(caught.value)  # the ä: 16 ASCII bytes come first


@pytest.mark.parametrize("text", [None, 5, ["{}"]])
def test_from_json_needs_text(text: Any) -> None:
    with pytest.raises(RecipeError, match="expected JSON text"):
        ActionRecipe.from_json(text)


def test_non_mapping_params_in_python_are_a_recipe_error() -> None:
    with pytest.raises(RecipeError) as stroke:
        RecipeAction.paint((0, 0, 0), cast(Any, [("brush_radius_mm", 5)]))
    with pytest.raises(RecipeError) as change:
        RecipeAction.set_param(params=cast(Any, "brush_radius_mm=5"))

    assert stroke.value.field == "params" and change.value.field == "params"


# --- types: numpy accepted and normalised, strings and sets rejected ---------------------


def test_numpy_values_are_stored_as_plain_python_values() -> None:
    action = RecipeAction.paint(
        np.array([1, 2, 3]),
        path=np.array([[1.5, 2, 3], [4, 5, 6]], dtype=np.float32),
        brush_radius_mm=np.int64(10),
        edge_sensitivity=np.float32(10),
        fill_holes=np.bool_(False),
        gmm_components=np.int64(4),
        brush_mode=np.str_("2d"),
        slice_orientation="oblique",
        slice_normal=np.array([0.0, 0.0, 1.0]),
    )

    assert action.ras == (1.0, 2.0, 3.0) and all(type(v) is float for v in action.ras)
    assert action.path == [(1.5, 2.0, 3.0), (4.0, 5.0, 6.0)]
    assert all(type(v) is float for point in action.path for v in point)
    assert action.params["brush_radius_mm"] == 10.0
    assert type(action.params["brush_radius_mm"]) is float
    assert type(action.params["edge_sensitivity"]) is float
    assert action.params["fill_holes"] is False
    assert type(action.params["gmm_components"]) is int
    assert type(action.params["brush_mode"]) is str
    assert action.params["slice_normal"] == (0.0, 0.0, 1.0)


def test_values_set_after_construction_are_normalised_by_validate(tmp_path: Path) -> None:
    recipe = full_recipe()
    action = recipe.actions[1]
    action.timestamp = cast(float, np.float32(1.5))
    action.ras = cast(Any, np.array([1, 2, 3], dtype=np.int16))
    action.params["edge_sensitivity"] = np.int64(20)
    action.extensions = {"x_pressure": np.array([0.5, 0.25]), "x_flag": np.bool_(True)}
    recipe.metadata["weights"] = (np.float64(0.5), np.int32(2))

    recipe.validate()

    assert type(action.timestamp) is float and action.timestamp == 1.5
    assert action.ras == (1.0, 2.0, 3.0)
    assert type(action.params["edge_sensitivity"]) is float
    assert action.extensions == {"x_pressure": [0.5, 0.25], "x_flag": True}
    assert recipe.metadata["weights"] == [0.5, 2]
    assert type(recipe.metadata["weights"][1]) is int
    recipe.save(tmp_path / "numpy.json")
    assert ActionRecipe.load(tmp_path / "numpy.json") == recipe


def test_to_dict_and_save_normalise_without_an_explicit_validate(tmp_path: Path) -> None:
    action = RecipeAction.paint((0, 0, 0))
    action.timestamp = cast(float, np.float32(1.5))

    assert json.dumps(action.to_dict())  # no TypeError for a numpy float
    assert action.to_dict()["timestamp"] == 1.5

    recipe = ActionRecipe("r", segment_name="s", actions=[RecipeAction.paint((0, 0, 0))])
    recipe.actions[0].timestamp = cast(float, np.float32(2.5))
    recipe.save(tmp_path / "r.json")
    assert ActionRecipe.load(tmp_path / "r.json").actions[0].timestamp == 2.5


def test_a_failed_validate_changes_nothing() -> None:
    action = RecipeAction.paint((0, 0, 0))
    action.timestamp = cast(float, np.float32(1.5))
    action.params = {"brush_radius_mm": 1000}

    with pytest.raises(RecipeError):
        action.validate()

    assert type(action.timestamp) is np.float32


@pytest.mark.parametrize(
    ("action", "field"),
    [
        ({"type": "paint", "ras": [0, 0, 0], "params": {"brush_radius_mm": " 1_0 "}},
         "params.brush_radius_mm"),
        ({"type": "paint", "ras": [0, 0, 0], "params": {"edge_sensitivity": "12"}},
         "params.edge_sensitivity"),
        ({"type": "paint", "ras": [0, 0, 0], "params": {"fill_holes": "TRUE"}},
         "params.fill_holes"),
        ({"type": "paint", "ras": [0, 0, 0], "params": {"gmm_components": "3"}},
         "params.gmm_components"),
    ],
)  # fmt: skip
def test_strings_are_not_numbers_or_booleans_in_recipes(action: dict[str, Any], field: str) -> None:
    with pytest.raises(RecipeError) as caught:
        ActionRecipe.from_dict(with_action(action))

    assert (caught.value.action_index, caught.value.field) == (1, field)
    assert "without quotes" in str(caught.value)


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: RecipeAction.paint(cast(Any, {1, 2, 3})), "ras"),
        (lambda: RecipeAction.paint((0, 0, 0), path=cast(Any, {(1, 2, 3)})), "path"),
        (lambda: RecipeAction.paint((0, 0, 0), path=[cast(Any, {1, 2, 3})]), "path[0]"),
        (lambda: RecipeAction.paint(cast(Any, {"r": 1, "a": 2, "s": 3})), "ras"),
        (lambda: RecipeAction.paint((0, 0, 0), slice_normal={0, 1, 2}), "params.slice_normal"),
        (
            lambda: ActionRecipe("r", segment_name="s", extensions={"x_set": {1, 2}}),
            "x_set",
        ),
    ],
)
def test_unordered_collections_are_rejected(build: Any, field: str) -> None:
    with pytest.raises(RecipeError) as caught:
        build()

    assert caught.value.field == field


def test_set_error_explains_the_order() -> None:
    with pytest.raises(RecipeError, match="a set has no order, use a list"):
        RecipeAction.paint(cast(Any, {1, 2, 3}))


def test_generator_path_is_taken_in_order() -> None:
    points = ((float(i), 0.0, 0.0) for i in range(1, 4))

    action = RecipeAction.paint((0, 0, 0), path=points)

    assert action.path == [(1.0, 0.0, 0.0), (2.0, 0.0, 0.0), (3.0, 0.0, 0.0)]


# --- metadata.created ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "created",
    [
        "2026-01-02T03:04:05+00:00",
        "2026-01-02T03:04:05Z",
        "2026-01-02 03:04",
        "2026-01-02T03:04:05.123456-05:30",
        "2026-01-02T03:04:05+0100",
        "2026-01-02T03:04:05",
    ],
)
def test_created_accepts_iso_8601_date_times(created: str) -> None:
    recipe = ActionRecipe.from_dict(minimal_dict(metadata={"created": created}))

    assert recipe.metadata["created"] == created


@pytest.mark.parametrize(
    "created",
    [
        "yesterday",
        "2026-01-02",
        "2026-13-02T03:04:05",
        "2026-02-30T00:00:00",
        "2026-01-02T25:00:00",
        "2026-01-02T03:04:05+24:00",
        "02/01/2026 03:04",
        "",
        5,
        None,
    ],
)
def test_created_must_be_an_iso_8601_date_time(created: Any) -> None:
    with pytest.raises(RecipeError) as loading:
        ActionRecipe.from_dict(minimal_dict(metadata={"created": created}))
    with pytest.raises(RecipeError) as building:
        ActionRecipe("r", segment_name="s", metadata={"created": created})

    assert loading.value.field == building.value.field == "metadata.created"


def test_created_error_shows_an_example() -> None:
    with pytest.raises(RecipeError) as caught:
        ActionRecipe("r", segment_name="s", metadata={"created": "yesterday"})

    assert str(caught.value) == (
        "field 'metadata.created': expected an ISO 8601 date and time such as "
        "2026-01-02T03:04:05+00:00, got 'yesterday'"
    )


# --- saving through a symbolic link, and text JSON cannot hold as UTF-8 ------------------


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links here")
def test_save_through_a_symlink_writes_the_target_and_keeps_the_link(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    target = shared / "recipe.json"
    target.write_text("stale", encoding="utf-8")
    os.chmod(target, 0o640)
    link = tmp_path / "link.json"
    link.symlink_to(os.path.join("shared", "recipe.json"))
    recipe = full_recipe()

    recipe.save(link)

    assert link.is_symlink()
    assert ActionRecipe.load(target) == recipe
    assert os.stat(target).st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.json", "shared"]
    assert [p.name for p in shared.iterdir()] == ["recipe.json"]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links here")
def test_save_through_a_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "new.json")

    full_recipe().save(link)

    assert link.is_symlink()
    assert ActionRecipe.load(tmp_path / "new.json") == full_recipe()


def test_lone_surrogate_text_is_saved_escaped_and_read_back(tmp_path: Path) -> None:
    recipe = ActionRecipe.from_json(json.dumps(minimal_dict(description="broken \ud800 text")))
    path = tmp_path / "surrogate.json"

    recipe.save(path)

    assert "\\ud800" in path.read_text(encoding="utf-8")
    assert ActionRecipe.load(path).description == "broken \ud800 text"


# --- any JSON anywhere: a recipe or a RecipeError, and what loads also saves --------------

_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=5)
    | st.sampled_from(["1", " 1_0 ", "true", "TRUE", "ct_lung", "paint", CT]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=8,
)

_PLACES = [
    ("name",),
    ("segment_name",),
    ("sample_data",),
    ("description",),
    ("gold_standard",),
    ("metadata",),
    ("metadata", "created"),
    ("metadata", "branch_step"),
    ("format_version",),
    ("actions",),
    ("x_extra",),
    ("actions", 0),
    ("actions", 0, "type"),
    ("actions", 0, "ras"),
    ("actions", 0, "ras", 1),
    ("actions", 0, "path"),
    ("actions", 0, "timestamp"),
    ("actions", 0, "params"),
    ("actions", 0, "params", "brush_radius_mm"),
    ("actions", 0, "params", "slice_normal"),
    ("actions", 0, "params", "fill_holes"),
    ("actions", 0, "params", "gmm_components"),
    ("actions", 0, "params", "preset"),
    ("actions", 1, "params", "algorithm"),
    ("actions", 0, "x_note"),
]


def _put(data: Any, place: tuple[Any, ...], value: Any) -> None:
    for key in place[:-1]:
        data = data[key]
    data[place[-1]] = value


@settings(max_examples=400, deadline=None)
@given(place=st.sampled_from(_PLACES), value=_JSON_VALUES)
def test_any_json_value_anywhere_gives_a_recipe_or_a_recipe_error(
    place: tuple[Any, ...], value: Any
) -> None:
    data = minimal_dict(metadata={"created": "2026-01-02T03:04:05+00:00"})
    _put(data, place, value)
    text = json.dumps(data)

    try:
        recipe = ActionRecipe.from_json(text)
    except RecipeError as error:
        assert type(error) is RecipeError
        return
    # What validation accepts is written and read back unchanged.
    assert ActionRecipe.from_json(recipe.to_json()) == recipe
