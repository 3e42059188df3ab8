"""Tests of the run report: JSON content and round trip, Markdown tables and pictures."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import cast

import numpy as np
import pytest
from SegmentEditorAdaptiveBrushTesterLib.core.report import (
    HD95_NOTE,
    REPORT_VERSION,
    ReportError,
    RunReport,
    StepReport,
    collect_environment,
)

NUMPY_VOXELS = cast(int, np.int64(12000))


def _report(**changes: object) -> RunReport:
    values: dict[str, object] = {
        "recipe_name": "right lung, three strokes",
        "sample_data": "CTChest4",
        "segment_name": "right lung",
        "gold_standard": "Segmentation.seg.nrrd: right lung",
        "steps": [
            StepReport(1, "paint | watershed", 0.1234, 12345, 0.91234, 2.3456),
            # numpy scalars, as the runner gets them from arrays, must become plain JSON.
            StepReport(2, "erase", np.float64(0.05), NUMPY_VOXELS, np.float64(0.9), math.inf),
            StepReport(3, "paint", 1.5, 0, None, None),
        ],
        "total_seconds": 1.6734,
        "checkpoint_stats": {"ratio": 0.125, "count": 4, "bytes_held": 1234567, "thinned": False},
        "final_metrics": {
            "volume_similarity": 0.99,
            "hausdorff95_mm": 2.5,
            "dice": 0.9,
            "jaccard": 0.8181818,
            "hausdorff_mm": math.inf,
            "volume_a_mm3": 1500.0,
        },
        "outputs": {
            "segmentation": "result.seg.nrrd",
            "axial": "axial.png",
            "coronal": "coronal view.png",
        },
        "environment": {"numpy": "2.0.0", "python": "3.11.9"},
    }
    values.update(changes)
    return RunReport(**values)  # type: ignore[arg-type]


def test_json_has_stable_order_plain_types_and_null_for_non_finite(tmp_path: Path) -> None:
    path = tmp_path / "report.json"

    _report().write_json(path)
    data = json.loads(path.read_text(encoding="utf-8"))

    assert list(data) == [
        "report_version",
        "recipe_name",
        "sample_data",
        "segment_name",
        "gold_standard",
        "steps",
        "total_seconds",
        "checkpoint_stats",
        "final_metrics",
        "outputs",
        "environment",
    ]
    assert data["report_version"] == REPORT_VERSION
    assert list(data["steps"][0]) == ["index", "label", "seconds", "voxels", "dice", "hd95_mm"]
    assert data["steps"][1] == {
        "index": 2,
        "label": "erase",
        "seconds": 0.05,
        "voxels": 12000,
        "dice": 0.9,
        "hd95_mm": None,
    }
    assert list(data["final_metrics"]) == sorted(data["final_metrics"])
    assert data["final_metrics"]["hausdorff_mm"] is None
    assert data["checkpoint_stats"] == {
        "bytes_held": 1234567,
        "count": 4,
        "ratio": 0.125,
        "thinned": False,
    }
    assert "Infinity" not in path.read_text(encoding="utf-8")


def test_json_round_trip_keeps_content(tmp_path: Path) -> None:
    original = _report()
    path = tmp_path / "report.json"

    original.write_json(path)
    loaded = RunReport.read_json(path)

    assert loaded.recipe_name == original.recipe_name
    assert loaded.gold_standard == original.gold_standard
    assert loaded.steps[0] == original.steps[0]
    assert loaded.steps[1].hd95_mm is None  # inf is written as null
    assert loaded.steps[2] == StepReport(3, "paint", 1.5, 0, None, None)
    assert loaded.total_seconds == pytest.approx(1.6734)
    assert loaded.checkpoint_stats == original.checkpoint_stats
    assert loaded.final_metrics is not None
    assert loaded.final_metrics["dice"] == 0.9
    assert loaded.final_metrics["hausdorff_mm"] is None
    assert loaded.outputs == original.outputs
    assert loaded.environment == original.environment
    # Writing the loaded report again gives the same bytes: the order is stable.
    loaded.write_json(tmp_path / "again.json")
    assert (tmp_path / "again.json").read_bytes() == path.read_bytes()


def test_json_is_identical_whatever_the_dict_insertion_order(tmp_path: Path) -> None:
    first = _report(environment={"a": "1", "b": "2"})
    second = _report(environment={"b": "2", "a": "1"})

    first.write_json(tmp_path / "first.json")
    second.write_json(tmp_path / "second.json")

    assert (tmp_path / "first.json").read_bytes() == (tmp_path / "second.json").read_bytes()


def test_markdown_has_summary_steps_checkpoints_and_pictures(tmp_path: Path) -> None:
    path = tmp_path / "report.md"

    report = _report()
    report.write_markdown(path)
    text = path.read_text(encoding="utf-8")

    assert text.startswith("# Adaptive Brush run: right lung, three strokes\n")
    assert "| Total time (set-up and steps) | 1.67 s |" in text
    steps_total = sum(step.seconds for step in report.steps)
    assert f"| Steps time | {steps_total:.2f} s |" in text
    assert "| Dice | 0.9000 |" in text
    assert "| Jaccard | 0.8182 |" in text
    assert "| Hausdorff (mm) | n/a |" in text
    assert "| HD95 (mm) | 2.50 |" in text
    assert "| Volume similarity | 0.9900 |" in text
    assert "| Volume, result (mm³) | 1,500 |" in text
    assert "| 1 | paint \\| watershed | 123.4 | 12,345 | 0.9123 | 2.35 |" in text
    assert "| 2 | erase | 50.0 | 12,000 | 0.9000 | n/a |" in text
    assert "| 3 | paint | 1500.0 | 0 | n/a | n/a |" in text
    assert "| bytes_held | 1,234,567 |" in text
    assert "| thinned | no |" in text
    assert "![axial](axial.png)" in text
    assert "![coronal](<coronal view.png>)" in text
    assert "- segmentation: [result.seg.nrrd](result.seg.nrrd)" in text
    assert "| Package | Version |" in text
    assert "| numpy | 2.0.0 |" in text


def test_markdown_without_reference_says_so() -> None:
    steps = [StepReport(1, "paint", 0.2, 10)]

    text = _report(gold_standard=None, final_metrics=None, steps=steps).to_markdown()

    assert "| Reference | none (no metrics) |" in text
    assert "No reference segmentation: metrics were not computed." in text
    assert "| 1 | paint | 200.0 | 10 | n/a | n/a |" in text


def test_step_from_metrics_takes_dice_and_hd95() -> None:
    step_metrics = {"dice": 0.8, "hausdorff95_mm": 3.0, "hausdorff_mm": 9.0}

    assert StepReport.from_metrics(4, "paint", 0.5, 99, step_metrics) == StepReport(
        4, "paint", 0.5, 99, 0.8, 3.0
    )
    assert StepReport.from_metrics(4, "paint", 0.5, 99, None).dice is None


@pytest.mark.parametrize("name", ["/runs/axial.png", "C:\\runs\\axial.png"])
def test_absolute_output_paths_are_rejected(name: str) -> None:
    with pytest.raises(ReportError, match="relative"):
        _report(outputs={"axial": name})


def test_newer_report_version_is_refused() -> None:
    data = _report().to_dict()
    data["report_version"] = REPORT_VERSION + 1

    with pytest.raises(ReportError, match="newer"):
        RunReport.from_dict(data)


def test_environment_lists_python_and_packages() -> None:
    versions = collect_environment(["numpy", "surely-not-an-installed-package"])

    assert versions["numpy"] == np.__version__
    assert versions["surely-not-an-installed-package"] == "not installed"
    assert versions["python"].count(".") == 2


def test_distances_to_an_empty_mask_show_as_not_available_everywhere(tmp_path: Path) -> None:
    # An empty result gives inf distances: "n/a" on the console, null in JSON, and
    # "n/a" in Markdown rather than "inf".
    empty = {"dice": 0.0, "hausdorff_mm": math.inf, "hausdorff95_mm": math.inf}
    report = _report(
        steps=[StepReport.from_metrics(0, "erase everything", 0.1, 0, empty)],
        final_metrics={**empty, "spread_mm": -math.inf, "noise": math.nan},
    )

    text = report.to_markdown()
    report.write_json(tmp_path / "report.json")
    data = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))

    assert "| Hausdorff (mm) | n/a |" in text
    assert "| HD95 (mm) | n/a |" in text
    assert "| 0 | erase everything | 100.0 | 0 | 0.0000 | n/a |" in text
    assert "| spread_mm | n/a |" in text and "| noise | n/a |" in text
    assert "inf" not in text and "nan" not in text
    assert data["final_metrics"]["hausdorff95_mm"] is None
    assert data["steps"][0]["hd95_mm"] is None


def test_markdown_defines_hd95_under_the_steps_table() -> None:
    lines = _report().to_markdown().splitlines()

    note = lines.index(HD95_NOTE)
    assert lines[note - 1] == ""
    assert lines[note - 2].startswith("| 3 | paint |")  # right after the last step
    assert "95th percentile of the pooled symmetric surface distances" in HD95_NOTE
    assert _report(final_metrics=None, gold_standard=None).to_markdown().count(HD95_NOTE) == 1
