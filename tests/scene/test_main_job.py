"""The main job end to end: default recipe on the embedded CT, outputs and bad input."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import slicerio
from SegmentEditorAdaptiveBrushLib.core.algorithms import ALGORITHMS
from SegmentEditorAdaptiveBrushTesterLib.cli import default_recipe_path, main


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    output = tmp_path_factory.mktemp("main-job")
    assert main(["--output", str(output), "--quiet"]) == 0
    return output


def test_default_recipe_reaches_dice_090(default_run):
    report = json.loads((default_run / "report.json").read_text())
    assert report["final_metrics"]["dice"] >= 0.90
    assert report["final_metrics"]["hausdorff95_mm"] < 20.0
    steps = report["steps"]
    assert len(steps) == 6
    assert [s["index"] for s in steps] == list(range(6))
    assert steps[-1]["dice"] == pytest.approx(report["final_metrics"]["dice"])
    assert report["checkpoint_stats"]["count"] == 7


def test_outputs_are_written_and_readable(default_run):
    markdown = (default_run / "report.md").read_text()
    assert "![axial](axial.png)" in markdown and "paint, threshold_brush" in markdown
    for name in ("axial.png", "coronal.png"):
        assert (default_run / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    segmentation = slicerio.read_segmentation(str(default_run / "right_lung.seg.nrrd"))
    names = [segment["name"] for segment in segmentation["segments"]]
    assert names == ["right lung"]
    voxels = np.count_nonzero(segmentation["voxels"])
    report = json.loads((default_run / "report.json").read_text())
    assert voxels == report["steps"][-1]["voxels"]


def test_progress_is_printed_per_step(tmp_path, capsys):
    assert main(["--output", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert sum(line.startswith("[") for line in lines) == 6
    assert any(line.startswith("Final Dice") for line in lines)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "line 1"),
        (
            '{"name": "x", "segment_name": "s", "actions": [{"type": "jump", "ras": [0, 0, 0]}]}',
            "action 0",
        ),
        (
            '{"name": "x", "segment_name": "s", '
            '"actions": [{"type": "paint", "ras": [0, NaN, 0]}]}',
            "ras",
        ),
        (
            '{"name": "x", "segment_name": "s", "actions": [{"type": "paint", "ras": [0, 0, 0], '
            '"params": {"brush_radius_mm": 500}}]}',
            "brush_radius_mm",
        ),
        (
            '{"name": "x", "segment_name": "s", "actions": [{"type": "set_algorithm", '
            '"params": {"algorithm": "magic"}}]}',
            "magic",
        ),
    ],
)
def test_bad_recipes_exit_2_with_a_clear_message(tmp_path, capsys, clean_scene, content, message):
    recipe = tmp_path / "bad.json"
    recipe.write_text(content)
    assert main([str(recipe), "--output", str(tmp_path / "out")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_missing_recipe_and_missing_sample_file(tmp_path, capsys, clean_scene):
    assert main([str(tmp_path / "nope.json"), "-o", str(tmp_path / "out")]) == 2
    assert "nope.json" in capsys.readouterr().err
    recipe = json.loads(default_recipe_path().read_text())
    recipe["sample_data"] = "missing/volume.nrrd"
    path = tmp_path / "recipe.json"
    path.write_text(json.dumps(recipe))
    assert main([str(path), "-o", str(tmp_path / "out")]) == 2
    assert "sample data file not found" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_output_path_that_is_a_file_is_refused_before_running(tmp_path, capsys):
    target = tmp_path / "taken"
    target.write_text("mine")
    assert main(["--output", str(target), "--quiet"]) == 2
    assert "exists and is not a folder" in capsys.readouterr().err
    assert target.read_text() == "mine"
    assert main(["--output", str(target / "sub"), "--quiet"]) == 2


def test_a_failing_step_still_reports_the_steps_before_it(tmp_path, capsys, monkeypatch):
    algorithm = ALGORITHMS["threshold_brush"]
    calls = []

    def fail_third(inp):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("solver diverged")
        return algorithm.run(inp)

    monkeypatch.setitem(
        ALGORITHMS, "threshold_brush", dataclasses.replace(algorithm, run=fail_third)
    )
    (tmp_path / "notes.txt").write_text("kept")
    assert main(["--output", str(tmp_path), "--quiet"]) == 1
    assert "solver diverged" in capsys.readouterr().err
    report = json.loads((tmp_path / "report.json").read_text())
    assert [s["index"] for s in report["steps"]] == [0, 1]
    assert (tmp_path / "right_lung.seg.nrrd").exists()
    assert (tmp_path / "notes.txt").read_text() == "kept"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no staging left"


def test_two_runs_write_identical_segmentation_files(tmp_path):
    """Regression: the segment colour was random, so identical runs wrote different files."""
    for name in ("first", "second"):
        assert main(["--output", str(tmp_path / name), "--quiet"]) == 0
    first = (tmp_path / "first" / "right_lung.seg.nrrd").read_bytes()
    assert first == (tmp_path / "second" / "right_lung.seg.nrrd").read_bytes()
    header = first[:4000].decode("latin-1")
    assert "Segment0_NameAutoGenerated:=0" in header
