"""Report of a headless recipe run, written as JSON (for machines) and Markdown (for people).

The report holds plain data only: times in seconds, voxel counts, metrics as returned by
:func:`metrics.compare` (distances in mm) and output files as names relative to the
report's folder, so a report folder can be moved or archived as a whole.

JSON conventions: top-level keys and step keys keep the dataclass field order; keys of
the free-form dictionaries (checkpoint statistics, final metrics, outputs, environment)
are sorted, so two runs with the same content give identical files. Infinite and NaN
numbers (for example a Hausdorff distance against an empty mask) are written as
``null`` and read back as None; the Markdown report shows them, like missing values, as
"n/a", and says below the steps table how HD95 is defined.
"""

from __future__ import annotations

import json
import logging
import math
import os
import platform
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from importlib import metadata
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

logger = logging.getLogger(__name__)

REPORT_VERSION = 1

# Packages whose versions explain a run's numbers; missing ones are reported as such.
ENVIRONMENT_PACKAGES = ("slicer-core", "numpy", "SimpleITK", "scipy", "scikit-image", "Pillow")

# Final metrics shown first in the summary, with their display names and formats.
_SUMMARY_METRICS = (
    ("dice", "Dice", "{:.4f}"),
    ("jaccard", "Jaccard", "{:.4f}"),
    ("hausdorff_mm", "Hausdorff (mm)", "{:.2f}"),
    ("hausdorff95_mm", "HD95 (mm)", "{:.2f}"),
    ("volume_similarity", "Volume similarity", "{:.4f}"),
    ("volume_a_mm3", "Volume, result (mm³)", "{:,.0f}"),
    ("volume_b_mm3", "Volume, reference (mm³)", "{:,.0f}"),
)

_PICTURE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".svg"}

NOT_AVAILABLE = "n/a"

# Shown under the steps table, so a reader knows which of the common HD95 definitions
# the numbers follow (metrics.py pools both directions before taking the percentile).
HD95_NOTE = (
    "HD95: the 95th percentile of the pooled symmetric surface distances, that is the "
    "distances (mm) from every surface voxel of the result to the reference's surface and "
    "from every surface voxel of the reference to the result's surface, taken together; "
    "Hausdorff is the largest of them. n/a: no reference, or one of the two masks is empty "
    "so there is no surface to measure to."
)


class ReportError(ValueError):
    """Report content that cannot be written or read (for example an absolute path)."""


@dataclass
class StepReport:
    """What one recipe step did and how close the result was to the reference.

    Attributes
    ----------
    index : int
        Step number as the runner counts it.
    label : str
        Human-readable description of the step (action and algorithm).
    seconds : float
        Wall time of the step in seconds.
    voxels : int
        Voxels in the segment after the step.
    dice : float or None
        Dice against the reference after the step; None without a reference.
    hd95_mm : float or None
        95th-percentile Hausdorff distance in mm after the step; None without a
        reference (and after a JSON round trip of an infinite value).
    """

    index: int
    label: str
    seconds: float
    voxels: int
    dice: float | None = None
    hd95_mm: float | None = None

    @classmethod
    def from_metrics(
        cls,
        index: int,
        label: str,
        seconds: float,
        voxels: int,
        step_metrics: Mapping[str, float] | None,
    ) -> StepReport:
        """Build a step from :func:`metrics.compare` output (None without a reference)."""
        if step_metrics is None:
            return cls(index, label, seconds, voxels)
        return cls(
            index, label, seconds, voxels, step_metrics["dice"], step_metrics["hausdorff95_mm"]
        )


@dataclass
class RunReport:
    """Everything the main job reports about one recipe run.

    Attributes
    ----------
    recipe_name : str
        Name of the recipe that was run.
    sample_data : str
        Name of the input volume (sample data set or file name).
    segment_name : str
        Name of the segment the recipe edited.
    gold_standard : str or None
        Description of the reference segmentation; None when there is none.
    steps : list of StepReport
        One entry per executed step, in order.
    total_seconds : float
        Wall time of the whole run in seconds.
    checkpoint_stats : dict
        Statistics of the checkpoint store (counts, bytes...), written as given.
    final_metrics : dict of str to float, or None
        :func:`metrics.compare` of the final result against the reference.
    outputs : dict of str to str
        Output files by role (for example ``{"axial": "axial.png"}``), as paths relative
        to the report's folder; pictures are embedded in the Markdown report.
    environment : dict of str to str
        Versions of Python and packages, see :func:`collect_environment`.

    Raises
    ------
    ReportError
        If an output path is absolute.
    """

    recipe_name: str
    sample_data: str
    segment_name: str
    gold_standard: str | None
    steps: list[StepReport] = field(default_factory=list)
    total_seconds: float = 0.0
    checkpoint_stats: dict[str, Any] = field(default_factory=dict)
    final_metrics: dict[str, float] | None = None
    outputs: dict[str, str] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for role, name in self.outputs.items():
            if PurePosixPath(name).is_absolute() or PureWindowsPath(name).is_absolute():
                raise ReportError(
                    f"output {role!r} has the absolute path {name!r}; give paths relative to "
                    "the report's folder so the report can be moved"
                )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready content: plain Python types, non-finite numbers as None."""
        data: dict[str, Any] = {"report_version": REPORT_VERSION}
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name == "steps":
                data["steps"] = [_step_to_dict(step) for step in value]
            else:
                data[item.name] = _json_safe(value)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunReport:
        """Rebuild a report from :meth:`to_dict` output (or a parsed JSON report).

        Raises
        ------
        ReportError
            If the data comes from a newer report version or misses a field.
        """
        version = data.get("report_version", REPORT_VERSION)
        if version > REPORT_VERSION:
            raise ReportError(
                f"report version {version} is newer than this reader ({REPORT_VERSION}); "
                "update the Adaptive Brush tester"
            )
        names = [item.name for item in fields(cls)]
        missing = [name for name in names[:4] if name not in data]
        if missing:
            raise ReportError(f"report data misses the fields {missing}")
        values = {name: data[name] for name in names if name in data}
        step_names = {item.name for item in fields(StepReport)}
        # Unknown step keys are ignored so older readers survive added step columns.
        values["steps"] = [
            StepReport(**{key: step[key] for key in step if key in step_names})
            for step in data.get("steps", [])
        ]
        return cls(**values)

    @classmethod
    def read_json(cls, path: str | os.PathLike[str]) -> RunReport:
        """Read a report written by :meth:`write_json`."""
        with open(path, encoding="utf-8") as stream:
            return cls.from_dict(json.load(stream))

    def write_json(self, path: str | os.PathLike[str]) -> None:
        """Write the report as indented UTF-8 JSON with a stable key order."""
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False, allow_nan=False)
        Path(path).write_text(text + "\n", encoding="utf-8")
        logger.info("Wrote JSON report to %s", path)

    def write_markdown(self, path: str | os.PathLike[str]) -> None:
        """Write :meth:`to_markdown` to a UTF-8 file (place it next to the outputs)."""
        Path(path).write_text(self.to_markdown(), encoding="utf-8")
        logger.info("Wrote Markdown report to %s", path)

    def to_markdown(self) -> str:
        """The report as Markdown: summary, final metrics, steps, checkpoints, pictures."""
        sections = [
            [f"# Adaptive Brush run: {_cell(self.recipe_name)}"],
            self._summary_lines(),
            _final_metrics_lines(self.final_metrics),
            _steps_lines(self.steps),
            _key_value_section("Checkpoints", ("Statistic", "Value"), self.checkpoint_stats),
            _pictures_lines(self.outputs),
            _files_lines(self.outputs),
            _key_value_section("Environment", ("Package", "Version"), self.environment),
        ]
        return "\n\n".join("\n".join(lines) for lines in sections if lines) + "\n"

    def _summary_lines(self) -> list[str]:
        reference = self.gold_standard or "none (no metrics)"
        rows = [
            ("Sample data", self.sample_data),
            ("Segment", self.segment_name),
            ("Reference", reference),
            ("Steps", str(len(self.steps))),
            ("Total time (set-up and steps)", f"{self.total_seconds:.2f} s"),
            ("Steps time", f"{sum(step.seconds for step in self.steps):.2f} s"),
        ]
        return ["| Run | |", "|---|---|", *(f"| {name} | {_cell(value)} |" for name, value in rows)]


def collect_environment(packages: Iterable[str] = ENVIRONMENT_PACKAGES) -> dict[str, str]:
    """Python, platform and package versions for :attr:`RunReport.environment`.

    Reads installed distribution metadata only, so nothing heavy (or Slicer) is imported.
    Packages that are not installed are reported as "not installed".
    """
    versions = {"python": platform.python_version(), "platform": platform.platform()}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _step_to_dict(step: StepReport) -> dict[str, Any]:
    return {item.name: _json_safe(getattr(step, item.name)) for item in fields(step)}


def _json_safe(value: Any) -> Any:
    """Plain JSON types with sorted dict keys; inf and nan become None."""
    if isinstance(value, Mapping):
        return {str(key): _json_safe(value[key]) for key in sorted(value, key=str)}
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "tolist"):
        # numpy scalars and arrays: native Python values, then clean those.
        return _json_safe(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _final_metrics_lines(final_metrics: Mapping[str, float] | None) -> list[str]:
    lines = ["## Final metrics", ""]
    if final_metrics is None:
        return [*lines, "No reference segmentation: metrics were not computed."]
    lines += ["| Metric | Value |", "|---|---:|"]
    shown = set()
    for key, name, pattern in _SUMMARY_METRICS:
        if key in final_metrics:
            lines.append(f"| {name} | {_number(final_metrics[key], pattern)} |")
            shown.add(key)
    for key in sorted(set(final_metrics) - shown):
        lines.append(f"| {_cell(key)} | {_value(final_metrics[key])} |")
    return lines


def _steps_lines(steps: list[StepReport]) -> list[str]:
    lines = [
        "## Steps",
        "",
        "| Step | Label | Time (ms) | Voxels | Dice | HD95 (mm) |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for step in steps:
        cells = [
            str(step.index),
            _cell(step.label),
            _number(step.seconds * 1000.0, "{:.1f}"),
            f"{int(step.voxels):,}",
            _number(step.dice, "{:.4f}"),
            _number(step.hd95_mm, "{:.2f}"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, "", HD95_NOTE]


def _key_value_section(title: str, header: tuple[str, str], values: Mapping[str, Any]) -> list[str]:
    if not values:
        return []
    rows = [f"| {_cell(key)} | {_value(values[key])} |" for key in sorted(values)]
    return [f"## {title}", "", f"| {header[0]} | {header[1]} |", "|---|---|", *rows]


def _pictures_lines(outputs: Mapping[str, str]) -> list[str]:
    pictures = [(role, name) for role, name in sorted(outputs.items()) if _is_picture(name)]
    if not pictures:
        return []
    return ["## Pictures", "", *(f"![{_cell(role)}]({_link(name)})" for role, name in pictures)]


def _files_lines(outputs: Mapping[str, str]) -> list[str]:
    files = [(role, name) for role, name in sorted(outputs.items()) if not _is_picture(name)]
    if not files:
        return []
    return [
        "## Files",
        "",
        *(f"- {_cell(role)}: [{_cell(name)}]({_link(name)})" for role, name in files),
    ]


def _is_picture(name: str) -> bool:
    return PurePosixPath(name).suffix.lower() in _PICTURE_SUFFIXES


def _link(name: str) -> str:
    # Markdown link targets cannot contain spaces unless wrapped in angle brackets.
    posix = name.replace("\\", "/")
    return f"<{posix}>" if " " in posix else posix


def _cell(text: object) -> str:
    """Text safe inside a Markdown table cell: one line, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _number(value: float | None, pattern: str) -> str:
    # A distance to an empty mask is inf: as unavailable as no value at all, and shown
    # the same way as on the console and as null in the JSON report.
    if value is None or not math.isfinite(value):
        return NOT_AVAILABLE
    return pattern.format(value)


def _value(value: Any) -> str:
    """Generic cell formatting for free-form statistics."""
    if value is None:
        return NOT_AVAILABLE
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return _number(value, "{:.4g}")
    if hasattr(value, "tolist"):
        return _value(value.tolist())
    return _cell(value)
