"""Pure decisions behind both GUIs, tested without Qt.

- Tester panel (``SegmentEditorAdaptiveBrushTesterLib.core.gui_state``): enabled buttons per
  runner state, slider range, label texts.
- Effect panel and mouse handling (``SegmentEditorAdaptiveBrushLib.gui.panel_layout`` and
  ``stroke_input``, which import no Qt): widgets generated from the parameter declarations,
  slice plane of a 2D stroke, stroke thinning, erase modifier.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from SegmentEditorAdaptiveBrushLib.core.algorithms import ALGORITHMS
from SegmentEditorAdaptiveBrushLib.core.params import PARAMETERS, BrushParameters
from SegmentEditorAdaptiveBrushLib.core.paramspec import ParamSpec
from SegmentEditorAdaptiveBrushLib.core.presets import PRESETS
from SegmentEditorAdaptiveBrushLib.gui import panel_layout, stroke_input
from SegmentEditorAdaptiveBrushTesterLib.core import gui_state
from SegmentEditorAdaptiveBrushTesterLib.core.gui_state import RunnerState

# --- Tester: buttons ------------------------------------------------------------------------

NOTHING = RunnerState()
LOADED = RunnerState(recipe_loaded=True, total_steps=5)
AT_START = RunnerState(recipe_loaded=True, set_up=True, current_step=-1, total_steps=5)
MIDDLE = RunnerState(recipe_loaded=True, set_up=True, current_step=2, total_steps=5)
AT_END = RunnerState(recipe_loaded=True, set_up=True, current_step=4, total_steps=5)
BRANCHING = RunnerState(True, True, 3, 4, branching=True, branch_available=True)
STOPPED_BRANCH = RunnerState(True, True, 2, 5, branching=False, branch_available=True)


def enabled(state: RunnerState) -> set[str]:
    return {name for name, on in gui_state.enabled_buttons(state).items() if on}


def test_every_button_has_a_state():
    for state in (NOTHING, LOADED, AT_START, MIDDLE, AT_END, BRANCHING):
        assert set(gui_state.enabled_buttons(state)) == set(gui_state.BUTTONS)


def test_without_a_recipe_only_loading_is_possible():
    assert enabled(NOTHING) == {"loadRecipe", "loadShipped"}


def test_a_loaded_recipe_can_be_set_up_and_exported_but_not_stepped():
    assert enabled(LOADED) == {"loadRecipe", "loadShipped", "setup", "exportScript"}


def test_at_the_start_only_forward_moves_are_possible():
    on = enabled(AT_START)
    assert {"stepForward", "runToEnd", "gotoStep", "startBranch", "cleanup"} <= on
    assert not on & {"gotoStart", "stepBackward", "setup", "stopBranch", "saveBranch"}


def test_in_the_middle_both_directions_are_possible():
    assert {"gotoStart", "stepBackward", "stepForward", "runToEnd"} <= enabled(MIDDLE)


def test_at_the_end_only_backward_moves_are_possible():
    on = enabled(AT_END)
    assert {"gotoStart", "stepBackward"} <= on
    assert not on & {"stepForward", "runToEnd"}


def test_branch_buttons_follow_the_branch():
    assert {"stopBranch", "saveBranch"} <= enabled(BRANCHING)
    assert "startBranch" not in enabled(BRANCHING)
    assert {"startBranch", "saveBranch"} <= enabled(STOPPED_BRANCH)
    assert "stopBranch" not in enabled(STOPPED_BRANCH)
    assert "saveBranch" not in enabled(MIDDLE)


def test_nothing_starts_while_busy():
    for state in (LOADED, MIDDLE, BRANCHING):
        busy = RunnerState(**{**state.__dict__, "busy": True})
        assert enabled(busy) == set()


def test_empty_recipe_has_nothing_to_step_through():
    empty = RunnerState(recipe_loaded=True, set_up=True, current_step=-1, total_steps=0)
    assert not enabled(empty) & {"stepForward", "runToEnd", "gotoStep", "stepBackward"}


# --- Tester: slider and labels --------------------------------------------------------------


def test_goto_range_runs_from_the_initial_state_to_the_last_step():
    assert gui_state.goto_range(MIDDLE) == (-1, 4)
    assert gui_state.goto_range(NOTHING) == (-1, -1)


def test_step_text_for_every_stage():
    assert gui_state.step_text(NOTHING) == "No recipe loaded."
    assert "press Set up" in gui_state.step_text(LOADED)
    assert gui_state.step_text(AT_START) == "Initial state (0 of 5 steps run)."
    assert gui_state.step_text(MIDDLE, "paint at R 1") == "Step 3 of 5: paint at R 1"
    assert gui_state.step_text(MIDDLE) == "Step 3 of 5."
    assert gui_state.step_text(BRANCHING, "paint").startswith("Branch: Step 4 of 4")


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (0, "0 B"),
        (900, "900 B"),
        (2048, "2.0 KB"),
        (78.6 * 1024**2, "78.6 MB"),
        (3 * 1024**3, "3.0 GB"),
    ],
)
def test_format_bytes(count, text):
    assert gui_state.format_bytes(count) == text


def test_stats_text_reports_count_sizes_and_ratio():
    stats = {"count": 6, "bytes_held": 4096, "full_copy_bytes": 4 * 1024**2, "ratio": 4096 / 4**11}
    assert (
        gui_state.stats_text(stats)
        == "6 checkpoints: 4.0 KB held, 4.0 MB as full copies (0.0977 %)."
    )
    assert gui_state.stats_text({"count": 1, "bytes_held": 10, "ratio": 1.0}).startswith(
        "1 checkpoint:"
    )
    assert gui_state.stats_text({}) == "No checkpoints."


def test_export_uses_the_branch_once_there_is_one():
    assert gui_state.export_source(LOADED) == "recipe"
    assert gui_state.export_source(MIDDLE) == "recipe"
    assert gui_state.export_source(STOPPED_BRANCH) == "branch"


def test_file_names():
    assert gui_state.recipe_name_for_file("/data/lung_branch.json") == "lung_branch"
    assert gui_state.recipe_name_for_file("notes.txt") == "notes.txt"
    assert gui_state.safe_file_stem('lung "demo" 2/3') == "lung_demo_2_3"
    assert gui_state.safe_file_stem("***") == "recipe"
    assert gui_state.default_branch_file_name("right lung") == "right_lung_branch.json"
    assert gui_state.default_script_file_name("right_lung") == "right_lung.py"


def test_shipped_recipes_lists_json_files_sorted(tmp_path):
    for name in ("b_case.json", "a_case.json", "readme.txt"):
        (tmp_path / name).write_text("{}")
    assert gui_state.shipped_recipes(str(tmp_path)) == [
        ("a case", str(tmp_path / "a_case.json")),
        ("b case", str(tmp_path / "b_case.json")),
    ]
    assert gui_state.shipped_recipes(str(tmp_path / "missing")) == []


# --- Effect panel: widgets from ParamSpecs ---------------------------------------------------


def all_panel_specs() -> list[ParamSpec]:
    return [spec for section in panel_layout.panel_sections() for spec in section.specs]


def test_every_editable_parameter_has_exactly_one_widget():
    names = [spec.name for spec in all_panel_specs()]
    assert len(names) == len(set(names))
    editable = {n for n, s in PARAMETERS.items() if panel_layout.widget_kind(s) is not None}
    assert set(names) == editable
    assert set(panel_layout.VIEW_PARAMETERS).isdisjoint(names)


def test_each_algorithm_with_parameters_has_its_own_section():
    sections = {s.key: s for s in panel_layout.panel_sections()}
    for name, algorithm in ALGORITHMS.items():
        if algorithm.parameters:
            assert {spec.name for spec in sections[name].specs} == {
                spec.name for spec in algorithm.parameters
            }
            assert sections[name].algorithm == name
            assert algorithm.label in sections[name].title


def test_a_new_algorithm_appears_without_gui_changes(monkeypatch):
    from SegmentEditorAdaptiveBrushLib.core.algorithms.base import Algorithm

    spec = ParamSpec("toy_strength", 1.0, "float", 0.0, 2.0, algorithm="toy")
    algorithms = {**ALGORITHMS, "toy": Algorithm("toy", "Toy brush", lambda _: None, (spec,))}
    monkeypatch.setattr(panel_layout, "ALGORITHMS", algorithms)
    toy = [s for s in panel_layout.panel_sections() if s.key == "toy"]
    assert toy and toy[0].specs == (spec,) and toy[0].title == "Toy brush parameters"


def test_main_section_first_advanced_last():
    sections = panel_layout.panel_sections()
    assert sections[0].key == panel_layout.MAIN_SECTION
    assert [s.name for s in sections[0].specs] == list(panel_layout.MAIN_PARAMETERS)
    assert sections[-1].key == panel_layout.ADVANCED_SECTION


def test_only_the_selected_algorithms_section_is_visible():
    visible = panel_layout.visible_sections("watershed")
    assert "watershed" in visible and "random_walker" not in visible
    assert {panel_layout.MAIN_SECTION, panel_layout.ADVANCED_SECTION} <= visible


def test_widget_kinds():
    assert panel_layout.widget_kind(PARAMETERS["brush_radius_mm"]) == "slider"
    assert panel_layout.widget_kind(PARAMETERS["gmm_components"]) == "slider"
    assert panel_layout.widget_kind(PARAMETERS["fill_holes"]) == "checkbox"
    assert panel_layout.widget_kind(PARAMETERS["sampling_method"]) == "combo"
    assert panel_layout.widget_kind(PARAMETERS["slice_normal"]) is None


def test_slider_ranges_come_from_the_specs():
    for spec in all_panel_specs():
        if panel_layout.widget_kind(spec) != "slider":
            continue
        settings = panel_layout.slider_settings(spec)
        assert (settings.minimum, settings.maximum) == (spec.minimum, spec.maximum)
        span = settings.maximum - settings.minimum
        assert 0 < settings.step <= span / 10 or spec.kind == "int"
        # The default must be reachable exactly with the slider's decimals.
        assert round(float(spec.default), settings.decimals) == pytest.approx(spec.default)


def test_radius_slider_settings():
    settings = panel_layout.slider_settings(PARAMETERS["brush_radius_mm"])
    assert settings == panel_layout.SliderSettings(1.0, 100.0, 0.1, 1, " mm")


def test_integer_sliders_step_by_one_and_give_integers():
    spec = PARAMETERS["gmm_components"]
    assert panel_layout.slider_settings(spec).step == 1.0
    assert panel_layout.slider_settings(spec).decimals == 0
    value = panel_layout.slider_value(spec, 3.0000001)
    assert value == 3 and isinstance(value, int)
    assert isinstance(panel_layout.slider_value(PARAMETERS["edge_sensitivity"], 40), float)


def test_slider_values_pass_validation():
    # What a slider sends must be accepted by the logic's validation.
    for spec in all_panel_specs():
        if panel_layout.widget_kind(spec) == "slider":
            BrushParameters({spec.name: panel_layout.slider_value(spec, float(spec.maximum))})


def test_slider_without_range_is_an_error():
    with pytest.raises(ValueError, match="no range"):
        panel_layout.slider_settings(ParamSpec("free", 1.0, "float"))


def test_labels_drop_the_algorithm_name_and_units():
    label = panel_layout.parameter_label
    assert label(PARAMETERS["brush_radius_mm"]) == "Brush radius:"
    assert label(PARAMETERS["gmm_components"]) == "GMM components:"
    spec = ParamSpec("watershed_marker_size", 1.0, "float", 0, 2, algorithm="watershed")
    assert label(spec) == "Marker size:"
    spec = ParamSpec("geodesic_reach", 1.0, "float", 0, 2, algorithm="geodesic_distance")
    assert label(spec) == "Reach:"
    # A name that is only the algorithm's name keeps its last word.
    assert label(ParamSpec("toy", 1, "int", 0, 2, algorithm="toy")) == "Toy:"


def test_choice_items_keep_values_and_use_readable_labels():
    algorithm_items = panel_layout.choice_items(PARAMETERS["algorithm"])
    assert [v for v, _ in algorithm_items] == list(PARAMETERS["algorithm"].choices or ())
    assert dict(algorithm_items)["watershed"] == ALGORITHMS["watershed"].label
    sampling = dict(panel_layout.choice_items(PARAMETERS["sampling_method"]))
    assert sampling["gmm"] == "Gaussian mixture"
    assert panel_layout.choice_label("some_value") == "Some value"


def test_preset_items_cover_every_preset_sorted_by_label():
    items = panel_layout.preset_items()
    assert {name for name, _ in items} == set(PRESETS)
    labels = [label for _, label in items]
    assert labels == sorted(labels)


def test_tooltip_names_default_unit_and_recipe_name():
    text = panel_layout.tooltip(PARAMETERS["brush_radius_mm"])
    assert "Default: 5 mm" in text and "brush_radius_mm" in text
    assert "Default: on" in panel_layout.tooltip(PARAMETERS["fill_holes"])


# --- Effect mouse handling ------------------------------------------------------------------


def slice_to_ras(normal: tuple[float, float, float]) -> list[list[float]]:
    """A SliceToRAS whose third column is ``normal`` (other columns do not matter here)."""
    matrix = np.eye(4)
    matrix[:3, 2] = normal
    return matrix.tolist()


@pytest.mark.parametrize(
    ("normal", "orientation"),
    [((0, 0, 1), "axial"), ((0, 0, -1), "axial"), ((0, 1, 0), "coronal"), ((-1, 0, 0), "sagittal")],
)
def test_aligned_slice_views_give_their_orientation_and_no_normal(normal, orientation):
    updates = stroke_input.slice_plane_updates(slice_to_ras(normal))
    assert updates == {"slice_orientation": orientation, "slice_normal": None}


def test_a_view_tilted_by_half_a_degree_is_still_axial():
    angle = math.radians(0.5)
    updates = stroke_input.slice_plane_updates(slice_to_ras((0, math.sin(angle), math.cos(angle))))
    assert updates["slice_orientation"] == "axial"


def test_an_oblique_view_records_its_unit_normal():
    updates = stroke_input.slice_plane_updates(slice_to_ras((0.0, 3.0, 4.0)))
    assert updates == {"slice_orientation": "oblique", "slice_normal": (0.0, 0.6, 0.8)}
    # And the logic accepts it as a complete 2D plane.
    BrushParameters({"brush_mode": "2d", **updates})


def test_a_matrix_without_normal_is_an_error():
    with pytest.raises(ValueError, match="no plane normal"):
        stroke_input.slice_plane_updates(slice_to_ras((0.0, 0.0, 0.0)))


def test_stroke_spacing_is_half_the_radius_with_a_floor():
    assert stroke_input.stroke_spacing_mm(10.0) == 5.0
    assert stroke_input.stroke_spacing_mm(0.2) == stroke_input.MIN_STROKE_SPACING_MM


def test_stroke_points_keep_the_click_and_drop_points_too_close():
    points = stroke_input.StrokePoints(spacing_mm=5.0)
    assert points.add((0, 0, 0))
    assert not points.add((3, 0, 0))
    assert points.add((5, 0, 0))
    assert not points.add((float("nan"), 0, 0))
    assert points.add((5, 6, 0))
    assert points.points == [(0.0, 0.0, 0.0), (5.0, 0.0, 0.0), (5.0, 6.0, 0.0)]
    assert len(points) == 3


def test_control_inverts_the_selected_mode():
    assert stroke_input.stroke_erases(erase_mode=False, modifier_pressed=False) is False
    assert stroke_input.stroke_erases(erase_mode=False, modifier_pressed=True) is True
    assert stroke_input.stroke_erases(erase_mode=True, modifier_pressed=False) is True
    assert stroke_input.stroke_erases(erase_mode=True, modifier_pressed=1) is False


def test_brush_radius_on_screen():
    xy_to_ras = np.diag([0.5, 0.5, 1.0, 1.0]).tolist()  # 0.5 mm per screen pixel
    pixel = stroke_input.mm_per_pixel(xy_to_ras)
    assert pixel == 0.5
    assert stroke_input.radius_in_pixels(10.0, pixel) == 20.0
    assert stroke_input.radius_in_pixels(10.0, 0.0) == 0.0
