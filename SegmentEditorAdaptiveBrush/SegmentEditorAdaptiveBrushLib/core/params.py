"""Every parameter of the effect, its default and range, and validated parameter sets.

Names are the ones used in recipes, in the Segment Editor node attributes and in the
Python API. Unknown names are errors that list the valid ones.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .algorithms import ALGORITHMS
from .errors import ParameterError
from .paramspec import ParamSpec
from .presets import PRESETS

DEFAULT_ALGORITHM = "geodesic_distance"
SAMPLING_METHODS = ("mean_std", "percentile", "min_max", "gmm")
SLICE_ORIENTATIONS = ("axial", "coronal", "sagittal", "oblique")

GENERAL_PARAMETERS: tuple[ParamSpec, ...] = (
    ParamSpec(
        "algorithm",
        DEFAULT_ALGORITHM,
        "choice",
        choices=tuple(ALGORITHMS),
        doc="Algorithm that decides which voxels inside the brush belong to the structure.",
    ),
    ParamSpec(
        "brush_radius_mm",
        5.0,
        "float",
        1.0,
        100.0,
        unit="mm",
        doc="Brush radius in millimetres (sphere in 3D, disk in 2D).",
    ),
    ParamSpec(
        "edge_sensitivity",
        40.0,
        "float",
        0.0,
        100.0,
        unit="%",
        doc="How strongly edges stop the brush: 0 = loose, 100 = stops at faint edges.",
    ),
    ParamSpec(
        "threshold_zone",
        50.0,
        "float",
        0.0,
        100.0,
        unit="%",
        doc="Radius of the zone sampled for intensity statistics, in % of the brush radius.",
    ),
    ParamSpec(
        "sampling_method",
        "mean_std",
        "choice",
        choices=SAMPLING_METHODS,
        doc="How the accepted intensity range is derived from the sampled zone.",
    ),
    ParamSpec(
        "std_multiplier",
        2.0,
        "float",
        0.1,
        10.0,
        doc="k in mean +/- k*std (sampling_method mean_std and gmm).",
    ),
    ParamSpec(
        "percentile_low",
        5.0,
        "float",
        0.0,
        100.0,
        unit="%",
        doc="Lower percentile of the sampled zone (sampling_method percentile).",
    ),
    ParamSpec(
        "percentile_high",
        95.0,
        "float",
        0.0,
        100.0,
        unit="%",
        doc="Upper percentile of the sampled zone (sampling_method percentile).",
    ),
    ParamSpec(
        "gmm_components",
        3,
        "int",
        2,
        6,
        doc="Gaussian mixture components fitted to the sampled zone (sampling_method gmm).",
    ),
    ParamSpec(
        "brush_mode",
        "3d",
        "choice",
        choices=("3d", "2d"),
        doc="3d: sphere; 2d: disk in the slice plane.",
    ),
    ParamSpec(
        "slice_orientation",
        "axial",
        "choice",
        choices=SLICE_ORIENTATIONS,
        doc="Slice plane of a 2d brush; oblique needs slice_normal.",
    ),
    ParamSpec(
        "slice_normal",
        None,
        "vector3",
        doc="Normal of the slice plane in RAS for an oblique 2d brush (any length).",
    ),
    ParamSpec(
        "roi_margin",
        20.0,
        "float",
        0.0,
        100.0,
        unit="%",
        doc="Margin around the brush box handed to the algorithm, in % of the radius.",
    ),
    ParamSpec("fill_holes", True, "bool", doc="Fill enclosed holes in the brush result."),
    ParamSpec(
        "closing_radius_mm",
        0.0,
        "float",
        0.0,
        20.0,
        unit="mm",
        doc="Morphological closing radius applied to the result; 0 = off.",
    ),
    ParamSpec(
        "keep_seed_component",
        True,
        "bool",
        doc="Keep only the connected part of the result that contains the seed.",
    ),
)


def _all_specs() -> dict[str, ParamSpec]:
    specs = {spec.name: spec for spec in GENERAL_PARAMETERS}
    for algorithm in ALGORITHMS.values():
        for spec in algorithm.parameters:
            if spec.name in specs:
                raise RuntimeError(f"parameter '{spec.name}' is declared twice")
            specs[spec.name] = spec
    return specs


PARAMETERS: dict[str, ParamSpec] = _all_specs()
PRESET_KEY = "preset"


def parameter_names() -> list[str]:
    """All valid parameter names, sorted."""
    return sorted(PARAMETERS)


def validate_updates(updates: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a partial parameter dict; expand ``preset`` first, explicit values win.

    Raises
    ------
    ParameterError
        Unknown name (the message lists valid names), unknown preset, or a bad value.
    """
    expanded: dict[str, Any] = {}
    if PRESET_KEY in updates:
        expanded.update(preset_values(updates[PRESET_KEY]))
    for name, value in updates.items():
        if name == PRESET_KEY:
            continue
        if name not in PARAMETERS:
            raise ParameterError(
                f"unknown parameter '{name}'; valid names: {', '.join(parameter_names())}"
            )
        expanded[name] = value
    return {name: PARAMETERS[name].validate(value) for name, value in expanded.items()}


def preset_values(name: Any) -> dict[str, Any]:
    """The parameter values a named preset sets; raises ParameterError for unknown names."""
    if not isinstance(name, str) or name not in PRESETS:
        raise ParameterError(
            f"unknown preset {name!r}; valid presets: {', '.join(sorted(PRESETS))}"
        )
    return dict(PRESETS[name]["parameters"])


class BrushParameters(Mapping[str, Any]):
    """A complete, validated, immutable parameter set (defaults plus what was set)."""

    def __init__(self, updates: Mapping[str, Any] | None = None) -> None:
        values = {name: spec.default for name, spec in PARAMETERS.items()}
        values.update(validate_updates(updates or {}))
        self._values = values

    def with_updates(self, updates: Mapping[str, Any]) -> BrushParameters:
        """A new set with ``updates`` applied; ``self`` is unchanged even when they fail."""
        merged = dict(self._values)
        merged.update(validate_updates(updates))
        return BrushParameters(merged)

    def changed_from_defaults(self) -> dict[str, Any]:
        """Only the values that differ from the defaults."""
        return {k: v for k, v in self._values.items() if PARAMETERS[k].default != v}

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, BrushParameters):
            return self._values == other._values
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(sorted((k, repr(v)) for k, v in self._values.items())))

    def __repr__(self) -> str:
        return f"BrushParameters({self.changed_from_defaults()!r})"
