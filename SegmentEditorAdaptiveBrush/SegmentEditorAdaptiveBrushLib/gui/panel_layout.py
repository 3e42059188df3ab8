"""What the effect's options panel shows, derived from the parameter declarations.

Pure Python (no Qt), tested headless. Every widget is generated from a ``ParamSpec``, so a
new algorithm or parameter appears in the panel without a GUI change: its section,
widget kind, range, step, label and tooltip all come from here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from SegmentEditorAdaptiveBrushLib.core.algorithms import ALGORITHMS
from SegmentEditorAdaptiveBrushLib.core.params import GENERAL_PARAMETERS, PARAMETERS
from SegmentEditorAdaptiveBrushLib.core.paramspec import ParamSpec
from SegmentEditorAdaptiveBrushLib.core.presets import PRESETS

MAIN_SECTION = "main"
ADVANCED_SECTION = "advanced"

# Shown at the top, in this order: what users change most.
MAIN_PARAMETERS = (
    "algorithm",
    "brush_radius_mm",
    "edge_sensitivity",
    "threshold_zone",
    "sampling_method",
    "brush_mode",
)

# Taken from the slice view at each 2D stroke, never typed in.
VIEW_PARAMETERS = ("slice_orientation", "slice_normal")

# Labels for choice values whose name does not read well once underscores become spaces.
CHOICE_LABELS = {
    "mean_std": "Mean \u00b1 k \u00d7 std",
    "percentile": "Percentiles",
    "min_max": "Min / max",
    "gmm": "Gaussian mixture",
    "3d": "3D (sphere)",
    "2d": "2D (disk in the slice)",
    "max_entropy": "Maximum entropy",
    "isodata": "IsoData",
}

# Words of parameter names written as acronyms in labels.
ACRONYMS = {"gmm": "GMM", "roi": "ROI"}

PRESET_PLACEHOLDER = "Apply a preset\u2026"


@dataclass(frozen=True)
class Section:
    """A group of parameter widgets; ``algorithm`` is set for an algorithm's own section."""

    key: str
    title: str
    specs: tuple[ParamSpec, ...]
    algorithm: str | None = None


@dataclass(frozen=True)
class SliderSettings:
    """Range and precision of a numeric parameter's slider."""

    minimum: float
    maximum: float
    step: float
    decimals: int
    suffix: str


def panel_sections() -> list[Section]:
    """Main section, one section per algorithm that has parameters, then Advanced."""
    main = tuple(PARAMETERS[name] for name in MAIN_PARAMETERS)
    sections = [Section(MAIN_SECTION, "", main)]
    for name, algorithm in ALGORITHMS.items():
        specs = tuple(s for s in algorithm.parameters if widget_kind(s) is not None)
        if specs:
            sections.append(Section(name, f"{algorithm.label} parameters", specs, name))
    hidden = set(MAIN_PARAMETERS) | set(VIEW_PARAMETERS)
    advanced = tuple(
        s for s in GENERAL_PARAMETERS if s.name not in hidden and widget_kind(s) is not None
    )
    sections.append(Section(ADVANCED_SECTION, "Advanced", advanced))
    return sections


def visible_sections(algorithm: str) -> set[str]:
    """Keys of the sections to show while ``algorithm`` is selected."""
    return {MAIN_SECTION, ADVANCED_SECTION, algorithm}


def widget_kind(spec: ParamSpec) -> str | None:
    """``slider``, ``checkbox`` or ``combo``; None for values the panel does not edit."""
    if spec.name in VIEW_PARAMETERS:
        return None
    return {"float": "slider", "int": "slider", "bool": "checkbox", "choice": "combo"}.get(
        spec.kind
    )


def slider_settings(spec: ParamSpec) -> SliderSettings:
    """Range from the spec; a step of about 1/100 of the range (1 for integers)."""
    if spec.minimum is None or spec.maximum is None:
        raise ValueError(f"parameter '{spec.name}' has no range; it cannot be a slider")
    low, high = float(spec.minimum), float(spec.maximum)
    if spec.kind == "int":
        return SliderSettings(low, high, 1.0, 0, _suffix(spec))
    step = 10.0 ** math.floor(math.log10((high - low) / 100.0)) if high > low else 1.0
    decimals = max(_decimals_of(step), _decimals_of(low))
    return SliderSettings(low, high, step, decimals, _suffix(spec))


def slider_value(spec: ParamSpec, raw: float) -> float | int:
    """The value a slider position stands for (integers for ``int`` parameters)."""
    return int(round(raw)) if spec.kind == "int" else float(raw)


def parameter_label(spec: ParamSpec) -> str:
    """Readable label; an algorithm's own parameters drop the algorithm's name."""
    words = spec.name.split("_")
    if spec.algorithm:
        prefix = spec.algorithm.split("_")
        shared = 0
        while shared < min(len(words) - 1, len(prefix)) and words[shared] == prefix[shared]:
            shared += 1
        words = words[shared:]
    words = [ACRONYMS.get(w, w) for w in words if w != "mm"]
    text = " ".join(words)
    return text[:1].upper() + text[1:] + ":"


def choice_items(spec: ParamSpec) -> list[tuple[str, str]]:
    """(value, label) of every choice; algorithms show their registered labels."""
    if spec.choices is None:
        return []
    if spec.name == "algorithm":
        return [(c, ALGORITHMS[c].label) for c in spec.choices]
    return [(c, choice_label(c)) for c in spec.choices]


def choice_label(value: str) -> str:
    if value in CHOICE_LABELS:
        return CHOICE_LABELS[value]
    text = value.replace("_", " ")
    return text[:1].upper() + text[1:]


def preset_items() -> list[tuple[str, str]]:
    """(name, label) of every preset, sorted by label."""
    return sorted(((name, str(p.get("label", name))) for name, p in PRESETS.items()), key=_second)


def tooltip(spec: ParamSpec) -> str:
    """The spec's description, with its unit and default."""
    default = _format_default(spec.default)
    unit = f" {spec.unit}" if spec.unit and spec.kind in ("float", "int") else ""
    return f"{spec.doc} Default: {default}{unit}. Name in recipes: {spec.name}."


def _suffix(spec: ParamSpec) -> str:
    if not spec.unit:
        return ""
    return spec.unit if spec.unit == "%" else f" {spec.unit}"


def _decimals_of(value: float) -> int:
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return len(text.split(".")[1]) if "." in text else 0


def _format_default(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _second(item: tuple[str, str]) -> str:
    return item[1]
