"""Script export: the generated script rebuilds an equal recipe, replays it, passes ruff."""

from __future__ import annotations

import shutil
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from SegmentEditorAdaptiveBrushTesterLib.core.recipe import (
    ActionRecipe,
    GoldStandard,
    RecipeAction,
)
from SegmentEditorAdaptiveBrushTesterLib.core.script_export import export_python_script

PACKAGE = "SegmentEditorAdaptiveBrushTesterLib"
CT = "connected_threshold"
LONG_TEXT = (
    'A long description with "double quotes", a backslash \\ and a tab\t, non-ASCII text '
    "(Lunge rechts, ä), and enough words that it cannot fit on one line of the script."
)


class FakeRunner:
    """Stands in for SteppingRecipeRunner; records what the script calls."""

    calls: list[str] = []

    def __init__(self, recipe: ActionRecipe) -> None:
        self.recipe = recipe
        FakeRunner.calls = ["init"]

    def setup(self) -> bool:
        FakeRunner.calls.append("setup")
        return True

    def run_to_end(self) -> int:
        FakeRunner.calls.append("run_to_end")
        return len(self.recipe)


def every_feature_recipe() -> ActionRecipe:
    drag = [(70.0 + 0.37 * i, -27.5, -220.25) for i in range(15)]
    actions = [
        RecipeAction.set_algorithm(CT, brush_radius_mm=12),
        RecipeAction.paint((75.0, -27.5, -220.25)),
        RecipeAction.paint((70.0, -27.5, -220.25), path=drag, description=LONG_TEXT),
        RecipeAction.paint(
            (59.8, -18.3, -120.25),
            brush_mode="2d",
            slice_orientation="oblique",
            slice_normal=(0.1, 0.2, 0.97),
            edge_sensitivity=70,
        ),
        RecipeAction.set_param("edge_sensitivity", 60, ras=(1, 2, 3)),
        RecipeAction.set_param("preset", "ct_lung"),
        RecipeAction.set_param(params={"fill_holes": False, "gmm_components": 4}),
        RecipeAction.erase((100.0, -27.5, -220.25), brush_radius_mm=5, brush_mode="3d"),
    ]
    actions[1].extensions = {"x_pressure": 0.5}
    return ActionRecipe(
        name='lung "demo"',
        sample_data="default",
        segment_name="right lung",
        actions=actions,
        gold_standard=GoldStandard("default", segment="right lung"),
        description="every action type",
        metadata={
            "created": "2026-12-04T12:00:00+00:00",
            "parent_recipe": "example_all_actions",
            "branch_step": 2,
            "notes": ["drag", {"2d": True, "weight": None}],
        },
        extensions={"x_tool": "recorder 1.0"},
    )


@pytest.fixture
def package_stub(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    # The script imports the package; give it the recipe classes without running the
    # package __init__ (which pulls in the scene layer).
    stub = types.ModuleType(PACKAGE)
    stub.__dict__.update(
        ActionRecipe=ActionRecipe,
        RecipeAction=RecipeAction,
        GoldStandard=GoldStandard,
        SteppingRecipeRunner=FakeRunner,
    )
    monkeypatch.setitem(sys.modules, PACKAGE, stub)
    return stub


def run_script(text: str, name: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {
        "__name__": name,
        "ActionRecipe": ActionRecipe,
        "RecipeAction": RecipeAction,
        "GoldStandard": GoldStandard,
    }
    exec(compile(text, "<recipe script>", "exec"), namespace)
    return namespace


def test_build_recipe_rebuilds_an_equal_recipe(package_stub: types.ModuleType) -> None:
    original = every_feature_recipe()

    namespace = run_script(export_python_script(original), "recipe_script")
    rebuilt = namespace["build_recipe"]()

    assert rebuilt == original
    assert rebuilt.to_dict() == original.to_dict()
    assert rebuilt.actions[2].path == original.actions[2].path
    assert rebuilt.actions[2].description == LONG_TEXT


def test_main_block_sets_up_runs_and_prints_step_count(
    package_stub: types.ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    FakeRunner.calls = []

    run_script(export_python_script(every_feature_recipe()), "__main__")

    assert FakeRunner.calls == ["init", "setup", "run_to_end"]
    assert capsys.readouterr().out == 'lung "demo": replayed 8 steps\n'


def test_importing_the_script_does_not_replay(package_stub: types.ModuleType) -> None:
    FakeRunner.calls = []

    run_script(export_python_script(every_feature_recipe()), "recipe_script")

    assert FakeRunner.calls == []


def test_script_reads_one_call_per_action_under_its_label() -> None:
    recipe = every_feature_recipe()

    text = export_python_script(recipe)
    lines = text.splitlines()

    import_line = f"from {PACKAGE} import ("
    assert lines[lines.index(import_line) + 1 : lines.index(import_line) + 5] == [
        "    ActionRecipe,",
        "    GoldStandard,",
        "    RecipeAction,",
        "    SteppingRecipeRunner,",
    ]
    assert "def build_recipe() -> ActionRecipe:" in lines
    assert 'if __name__ == "__main__":' in lines
    assert "    runner = SteppingRecipeRunner(build_recipe())" in lines
    index = lines.index("        # set algorithm connected_threshold, brush_radius_mm = 12")
    assert (
        lines[index + 1]
        == '        RecipeAction.set_algorithm("connected_threshold", brush_radius_mm=12.0),'
    )
    index = lines.index("        # paint, connected_threshold, r=12 mm at R 75.0 A -27.5 S -220.2")
    assert lines[index + 1] == "        RecipeAction.paint((75.0, -27.5, -220.25)),"
    assert '        RecipeAction.set_param("preset", "ct_lung"),' in lines
    assert "        # set preset = ct_lung" in lines
    assert text.count("RecipeAction.") == len(recipe)


def test_short_script_imports_on_one_line_and_handles_no_actions(
    package_stub: types.ModuleType,
) -> None:
    empty = ActionRecipe("empty", segment_name="s", metadata={"created": "2026-01-01T00:00:00Z"})

    text = export_python_script(empty)
    rebuilt = run_script(text, "recipe_script")["build_recipe"]()

    assert f"from {PACKAGE} import ActionRecipe, RecipeAction, SteppingRecipeRunner" in text
    assert "GoldStandard" not in text
    assert rebuilt == empty


def test_relative_paths_keep_resolving_from_the_recipe_folder(
    package_stub: types.ModuleType, tmp_path: Path
) -> None:
    recipe = ActionRecipe(
        "files",
        sample_data="images/ct.nrrd",
        segment_name="s",
        gold_standard=GoldStandard("gold.seg.nrrd"),
        source_dir=str(tmp_path),
    )

    rebuilt = run_script(export_python_script(recipe), "recipe_script")["build_recipe"]()

    assert rebuilt.resolve_path(rebuilt.sample_data) == str(tmp_path / "images" / "ct.nrrd")


def test_script_passes_ruff_check(tmp_path: Path) -> None:
    ruff = shutil.which("ruff") or shutil.which("ruff", path=str(Path(sys.executable).parent))
    if ruff is None:
        pytest.skip("ruff is not installed")
    script = tmp_path / "replay_recipe.py"
    script.write_text(export_python_script(every_feature_recipe()), encoding="utf-8")

    result = subprocess.run(
        [
            ruff,
            "check",
            "--isolated",
            "--line-length",
            "100",
            "--select",
            "E,F,W,I,B,UP,N",
            str(script),
        ],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert max(len(line) for line in script.read_text(encoding="utf-8").splitlines()) <= 100


def test_long_drag_stays_short(package_stub: types.ModuleType) -> None:
    points = [(float(i), 0.5 * i, -10.0) for i in range(1, 200)]
    recipe = ActionRecipe(
        "drag", segment_name="s", actions=[RecipeAction.paint((0, 0, -10), path=points)]
    )

    text = export_python_script(recipe)
    rebuilt = run_script(text, "recipe_script")["build_recipe"]()

    assert rebuilt == recipe
    assert len(text.splitlines()) < 110


def test_numpy_values_are_written_as_plain_literals(package_stub: types.ModuleType) -> None:
    recipe = every_feature_recipe()
    recipe.actions[1].timestamp = np.float32(1.5)  # type: ignore[assignment]
    recipe.actions[1].params["edge_sensitivity"] = np.int64(45)
    recipe.actions[1].extensions = {"x_pressure": np.array([0.5, 0.25]), "x_on": np.bool_(True)}
    recipe.metadata["weights"] = (np.float64(0.5), np.int32(2))

    text = export_python_script(recipe)
    rebuilt = run_script(text, "recipe_script")["build_recipe"]()

    assert "np." not in text and "array(" not in text
    assert rebuilt == recipe
    assert rebuilt.actions[1].timestamp == 1.5
    assert rebuilt.actions[1].extensions == {"x_pressure": [0.5, 0.25], "x_on": True}
