"""Recipes: replayable lists of brush actions, with validated JSON I/O.

A recipe names the image (``sample_data``), the segment it paints into and the actions
that build the segmentation: paint and erase strokes at RAS points (mm), parameter and
algorithm changes. Everything is checked when a recipe or action is built or loaded, and
errors name the field and the (0-based) action index, so a replay never starts from a
recipe that cannot finish. Whatever the input, reading a recipe raises RecipeError and no
other exception type. Accepted values (numpy ones included) are stored as plain JSON
values, so a recipe that validates can always be saved. The file format is described in
``docs/recipes.md``.

Pure Python: imports neither slicer, vtk nor qt.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import json
import logging
import numbers
import os
import re
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence, Set
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
from SegmentEditorAdaptiveBrushLib.core.errors import ParameterError
from SegmentEditorAdaptiveBrushLib.core.params import PRESET_KEY, validate_updates
from SegmentEditorAdaptiveBrushLib.core.paramspec import (
    describe_value,
    finite_float,
    finite_vector3,
    sequence_items,
)

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
ACTION_TYPES = ("paint", "erase", "set_param", "set_algorithm")
STROKE_TYPES = ("paint", "erase")
DEFAULT_SAMPLE_DATA = "default"
EXTENSION_PREFIX = "x_"

ACTION_FIELDS = ("type", "ras", "params", "timestamp", "description", "path")
RECIPE_FIELDS = (
    "format_version",
    "name",
    "description",
    "sample_data",
    "segment_name",
    "gold_standard",
    "metadata",
    "actions",
)
GOLD_STANDARD_FIELDS = ("source", "segment")

# Deepest nesting of lists and objects accepted in metadata and extension data. Recipes
# need a few levels; the limit keeps copying and writing far from Python's recursion limit.
MAX_NESTING = 100

Point = tuple[float, float, float]
# What the constructors take for a point: a sequence of three numbers or a numpy array.
PointLike = Sequence[float] | np.ndarray


class RecipeError(ValueError):
    """A recipe, one of its actions, or a recipe file is not valid.

    Attributes
    ----------
    action_index : int or None
        0-based index of the offending action (the step index in the runner); None when
        the problem is not in an action.
    field : str or None
        The offending field, e.g. ``ras``, ``path[2]``, ``params.brush_radius_mm`` or
        ``segment_name``; None when the whole document is wrong (bad JSON).
    detail : str
        What was wrong, without the location prefix.
    source : str or None
        The file the recipe came from, when it was loaded from one.
    """

    def __init__(
        self,
        detail: str,
        *,
        action_index: int | None = None,
        field: str | None = None,
        source: str | None = None,
    ) -> None:
        self.detail = detail
        self.action_index = action_index
        self.field = field
        self.source = source
        super().__init__(_located(detail, action_index, field, source))


class RecipeNotFoundError(RecipeError, FileNotFoundError):
    """The recipe file does not exist (also a FileNotFoundError, so OSError handlers work)."""


def _located(detail: str, action_index: int | None, field: str | None, source: str | None) -> str:
    prefix = ""
    if source is not None:
        prefix += f"{source}: "
    if action_index is not None:
        prefix += f"action {action_index}: "
    if field is not None:
        prefix += f"field '{field}': "
    return prefix + detail


def _relocated(
    error: RecipeError, *, action_index: int | None = None, source: str | None = None
) -> RecipeError:
    """The same error with a location added; the original location wins where it is set."""
    return type(error)(
        error.detail,
        action_index=error.action_index if error.action_index is not None else action_index,
        field=error.field,
        source=error.source if error.source is not None else source,
    )


# --- value checks -------------------------------------------------------------------------


def _order_hint(value: Any) -> str:
    return "; a set has no order, use a list" if isinstance(value, Set) else ""


def _point(value: Any, field: str) -> Point:
    point = finite_vector3(value)
    if point is None:
        raise RecipeError(
            f"expected three finite numbers, got {describe_value(value)}{_order_hint(value)}",
            field=field,
        )
    return point


def _optional_point(value: Any, field: str) -> Point | None:
    return None if value is None else _point(value, field)


def _path(value: Any) -> list[Point]:
    if value is None:
        return []
    items = sequence_items(value)
    if items is None:
        raise RecipeError(
            f"expected a list of RAS points (mm), got {describe_value(value)}{_order_hint(value)}",
            field="path",
        )
    return [_point(item, f"path[{i}]") for i, item in enumerate(items)]


def _timestamp(value: Any) -> float:
    seconds = finite_float(value)
    if seconds is None:
        raise RecipeError(
            f"expected a finite number of seconds since the epoch, got {describe_value(value)}",
            field="timestamp",
        )
    return seconds


def _text(value: Any, field: str, *, required: bool = False) -> str:
    if not isinstance(value, str):
        raise RecipeError(f"expected a string, got {describe_value(value)}", field=field)
    if required and not value.strip():
        raise RecipeError("must not be empty", field=field)
    # A plain str, so a numpy.str_ never reaches the JSON writer or a script.
    return str(value)


def _integer(value: Any) -> int | None:
    """A Python or numpy integer as a plain int; None for anything else (bool included)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        return None
    return int(value)


def _step_index(value: Any, field: str) -> int:
    step = _integer(value)
    if step is None or step < -1:
        raise RecipeError(
            f"expected a step index >= -1 (-1 = initial state), got {describe_value(value)}",
            field=field,
        )
    return step


def _parameter_detail(error: ParameterError, name: str) -> str:
    # The field already names the parameter; do not repeat it.
    message = str(error)
    prefix = f"parameter '{name}': "
    return message[len(prefix) :] if message.startswith(prefix) else message


def _param_mapping(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise RecipeError(
            f"expected an object mapping parameter names to values, got {describe_value(value)}",
            field="params",
        )
    return dict(value)


def _params(value: Any) -> dict[str, Any]:
    """Validated parameters with plain values; a preset is kept by name, not expanded."""
    checked: dict[str, Any] = {}
    for name, raw in _param_mapping(value).items():
        if not isinstance(name, str):
            raise RecipeError(
                f"parameter names must be strings, got {describe_value(name)}", field="params"
            )
        try:
            normalised = validate_updates({name: raw})
        except ParameterError as error:
            raise RecipeError(_parameter_detail(error, name), field=f"params.{name}") from None
        checked[name] = str(raw) if name == PRESET_KEY else normalised[name]
    _check_slice_plane(checked)
    return checked


def _check_slice_plane(params: Mapping[str, Any]) -> None:
    # An oblique plane cannot be replayed without its normal, and a zero normal is no plane.
    normal = params.get("slice_normal")
    if params.get("slice_orientation") == "oblique" and normal is None:
        raise RecipeError(
            "missing; an oblique 2D brush must record its slice normal (RAS)",
            field="params.slice_normal",
        )
    if normal is not None and not any(component != 0.0 for component in normal):
        raise RecipeError("the slice normal has zero length", field="params.slice_normal")


def _check_params_for_type(action_type: str, params: Mapping[str, Any]) -> None:
    if action_type == "set_param" and not params:
        raise RecipeError("a set_param action needs at least one parameter", field="params")
    if action_type == "set_algorithm" and "algorithm" not in params:
        raise RecipeError(
            "missing; a set_algorithm action needs the algorithm name",
            field="params.algorithm",
        )


def _extensions(value: Any) -> dict[str, Any]:
    """Extension data as a copy made of plain JSON values."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise RecipeError(f"expected an object, got {describe_value(value)}", field="extensions")
    checked: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key.startswith(EXTENSION_PREFIX):
            raise RecipeError(
                f"extension keys must start with '{EXTENSION_PREFIX}', got {describe_value(key)}",
                field="extensions",
            )
        checked[key] = _plain_json(item, key)
    return checked


def _plain_json(value: Any, field: str, depth: int = 0) -> Any:
    """A copy of free-form data made of plain JSON values (numpy values converted).

    Raises RecipeError naming ``field`` for what JSON cannot hold, so that whatever
    validation accepts is also written by ``save`` and read back equal.
    """
    if depth > MAX_NESTING:
        raise RecipeError(
            f"lists and objects nested deeper than {MAX_NESTING} levels (or containing "
            "themselves); flatten the data",
            field=field,
        )
    if value is None:
        return None
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
        return _plain_float(value, field)
    if isinstance(value, numbers.Integral):
        return _plain_int(value, field)
    if isinstance(value, Mapping):
        return _plain_object(value, field, depth)
    if isinstance(value, _HugeInteger):
        raise RecipeError(f"{value!r} is too large to be written as JSON", field=field)
    items = sequence_items(value)
    if items is None:
        raise RecipeError(
            f"{describe_value(value)} ({type(value).__name__}) cannot be stored as JSON"
            f"{_order_hint(value)}",
            field=field,
        )
    return [_plain_json(item, field, depth + 1) for item in items]


def _plain_float(value: Any, field: str) -> float:
    number = finite_float(value)
    if number is None:
        raise RecipeError(
            f"{describe_value(value)} cannot be stored: JSON has no NaN or infinity", field=field
        )
    return number


def _plain_int(value: Any, field: str) -> int:
    number = int(value)
    try:
        str(number)
    except ValueError:
        # Python refuses to convert integers of more than 4300 digits to text.
        raise RecipeError(
            f"{describe_value(number)} is too large to be written as JSON", field=field
        ) from None
    return number


def _plain_object(value: Mapping[Any, Any], field: str, depth: int) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise RecipeError(
                f"object keys must be strings, got {describe_value(key)}", field=field
            )
        result[str(key)] = _plain_json(item, field, depth + 1)
    return result


def _unknown_keys(data: Mapping[str, Any], known: Sequence[str]) -> None:
    for key in data:
        if not isinstance(key, str):
            raise RecipeError(f"keys must be strings, got {describe_value(key)}")
        if key not in known and not key.startswith(EXTENSION_PREFIX):
            raise RecipeError(
                f"unknown field; valid fields: {', '.join(known)} "
                f"(or '{EXTENSION_PREFIX}...' for extension data)",
                field=key,
            )


def _or_default(value: Any, default: Any) -> Any:
    # Earlier tools write null for "nothing"; treat it like an absent field.
    return default if value is None else value


def _split_extensions(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k.startswith(EXTENSION_PREFIX)}


def _json_ready(value: Any) -> Any:
    """Plain JSON structures (tuples become lists) so that to_dict equals what JSON reads."""
    if isinstance(value, Mapping):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    return copy.deepcopy(value)


# --- labels ------------------------------------------------------------------------------


def _format_number(value: float) -> str:
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def _format_ras(point: Point | None) -> str:
    if point is None:
        return "an unknown point"
    r, a, s = point
    return f"R {_format_number(r)} A {_format_number(a)} S {_format_number(s)}"


def _format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(_format_value(v) for v in value) + ")"
    if value is None:
        return "none"
    return str(value)


def _format_assignments(params: Mapping[str, Any]) -> str:
    return ", ".join(f"{name} = {_format_value(value)}" for name, value in params.items())


def _expanded(params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters with any preset expanded (explicit values win), as the effect sees them."""
    try:
        return validate_updates(params)
    except ParameterError:
        return dict(params)


# --- actions -----------------------------------------------------------------------------


@dataclasses.dataclass
class RecipeAction:
    """One step of a recipe.

    Parameters
    ----------
    type : str
        ``paint``, ``erase``, ``set_param`` or ``set_algorithm``.
    ras : tuple of float, optional
        Point in RAS (mm). Required for paint and erase (the first point of a stroke);
        optional for set_param and set_algorithm. A list, tuple or numpy array of three
        numbers is accepted and stored as a tuple of float.
    params : dict
        Effect parameters (names as in ``SegmentEditorAdaptiveBrushLib.core.params``),
        applied before the action and kept for later actions. ``preset`` names a preset.
    timestamp : float
        When the action was recorded, seconds since the epoch.
    description : str
        Human-readable label; generated by :meth:`label` when empty.
    path : list of tuple of float
        Later points of a drag (RAS, mm); empty for a click. A drag is one step.
    extensions : dict
        Extension data (keys start with ``x_``), kept through load and save.

    Raises
    ------
    RecipeError
        At construction, when any field is invalid.
    """

    type: str
    ras: Point | None = None
    params: dict[str, Any] = dataclasses.field(default_factory=dict)
    timestamp: float = dataclasses.field(default_factory=time.time)
    description: str = ""
    path: list[Point] = dataclasses.field(default_factory=list)
    extensions: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        self._normalise()

    # Constructors ----------------------------------------------------------------------

    @classmethod
    def paint(
        cls,
        ras: PointLike,
        params: Mapping[str, Any] | None = None,
        *,
        path: Iterable[Sequence[float]] | None = None,
        description: str = "",
        **param_kwargs: Any,
    ) -> RecipeAction:
        """A paint stroke at ``ras`` (mm); ``path`` holds the later points of a drag.

        Parameters given as keywords (``algorithm="watershed", brush_radius_mm=10``) are
        merged into ``params``.
        """
        return cls._stroke("paint", ras, params, path, description, param_kwargs)

    @classmethod
    def erase(
        cls,
        ras: PointLike,
        params: Mapping[str, Any] | None = None,
        *,
        path: Iterable[Sequence[float]] | None = None,
        description: str = "",
        **param_kwargs: Any,
    ) -> RecipeAction:
        """An erase stroke at ``ras`` (mm); same arguments as :meth:`paint`."""
        return cls._stroke("erase", ras, params, path, description, param_kwargs)

    @classmethod
    def set_param(
        cls,
        name: str | None = None,
        value: Any = None,
        *,
        params: Mapping[str, Any] | None = None,
        description: str = "",
        ras: PointLike | None = None,
    ) -> RecipeAction:
        """Change one parameter (``name``, ``value``) or several (``params``).

        ``name`` may be ``"preset"`` with a preset name as ``value``.
        """
        if (name is None) == (params is None):
            raise RecipeError(
                "give either a parameter name and value, or params, but not both",
                field="params",
            )
        values = {name: value} if name is not None else _param_mapping(params)
        return cls("set_param", _optional_point(ras, "ras"), values, description=description)

    @classmethod
    def set_algorithm(
        cls,
        algorithm: str,
        *,
        description: str = "",
        ras: PointLike | None = None,
        **param_kwargs: Any,
    ) -> RecipeAction:
        """Switch the algorithm; keyword parameters are changed with it."""
        values = {"algorithm": algorithm, **param_kwargs}
        return cls("set_algorithm", _optional_point(ras, "ras"), values, description=description)

    @classmethod
    def _stroke(
        cls,
        action_type: str,
        ras: PointLike,
        params: Mapping[str, Any] | None,
        path: Iterable[Sequence[float]] | None,
        description: str,
        param_kwargs: Mapping[str, Any],
    ) -> RecipeAction:
        values = _param_mapping(params)
        for name in param_kwargs:
            if name in values:
                raise RecipeError(
                    "given both in params and as a keyword; give it once", field=f"params.{name}"
                )
        values.update(param_kwargs)
        if isinstance(path, Iterator):
            # A generator of points is ordered; take it in once.
            path = list(path)
        return cls(
            action_type,
            _optional_point(ras, "ras"),
            values,
            description=description,
            path=_path(path),
        )

    # Validation ------------------------------------------------------------------------

    def validate(self, index: int | None = None) -> None:
        """Check every field and normalise it in place; ``index`` (0-based) is named in
        the error.

        Normalising turns numpy numbers, booleans and arrays (and tuples) into the plain
        floats, bools and point tuples the action stores, so anything accepted here can
        be saved. Nothing changes when a field is invalid.

        Raises
        ------
        RecipeError
            Unknown type, missing or non-finite coordinates, a path on a non-stroke
            action, or an unknown parameter, preset or bad parameter value.
        """
        try:
            self._normalise()
        except RecipeError as error:
            raise _relocated(error, action_index=index) from None

    def _normalise(self) -> None:
        # All fields are checked before any is replaced, so a failure changes nothing.
        for name, value in self._checked().items():
            setattr(self, name, value)

    def _checked(self) -> dict[str, Any]:
        action_type = self._checked_type()
        if action_type in STROKE_TYPES and self.ras is None:
            raise RecipeError(
                f"missing; a {action_type} action needs the RAS point (mm) of the stroke",
                field="ras",
            )
        ras = _optional_point(self.ras, "ras")
        path = _path(self.path)
        if path and action_type not in STROKE_TYPES:
            raise RecipeError("only paint and erase actions have a path", field="path")
        params = _params(self.params)
        _check_params_for_type(action_type, params)
        return {
            "type": action_type,
            "ras": ras,
            "path": path,
            "params": params,
            "timestamp": _timestamp(self.timestamp),
            "description": _text(self.description, "description"),
            "extensions": _extensions(self.extensions),
        }

    def _checked_type(self) -> str:
        if isinstance(self.type, str) and self.type in ACTION_TYPES:
            return ACTION_TYPES[ACTION_TYPES.index(self.type)]
        raise RecipeError(
            f"unknown action type {describe_value(self.type)}; "
            f"valid types: {', '.join(ACTION_TYPES)}",
            field="type",
        )

    # Labels ----------------------------------------------------------------------------

    def label(self, state: Mapping[str, Any] | None = None) -> str:
        """The description, or a generated label such as
        ``"paint, watershed, r=10 mm at R 12.0 A -4.5 S 30.2"``.

        Parameters
        ----------
        state : Mapping, optional
            The effect's parameters before this action; used for the algorithm, radius
            and brush mode when the action's own params do not set them.
        """
        if self.description:
            return self.description
        if self.type == "set_algorithm":
            others = {k: v for k, v in self.params.items() if k != "algorithm"}
            extra = f", {_format_assignments(others)}" if others else ""
            return f"set algorithm {self.params.get('algorithm')}{extra}"
        if self.type == "set_param":
            return f"set {_format_assignments(self.params)}"
        return self._stroke_label({**(state or {}), **_expanded(self.params)})

    def _stroke_label(self, effective: Mapping[str, Any]) -> str:
        parts = [self.type]
        if effective.get("algorithm"):
            parts.append(str(effective["algorithm"]))
        radius = finite_float(effective.get("brush_radius_mm"))
        if radius is not None:
            parts.append(f"r={radius:g} mm")
        if effective.get("brush_mode") == "2d":
            orientation = effective.get("slice_orientation")
            parts.append(f"2D {orientation}" if orientation else "2D")
        if self.path:
            parts.append(f"drag of {len(self.path) + 1} points")
            return f"{', '.join(parts)} from {_format_ras(self.ras)}"
        return f"{', '.join(parts)} at {_format_ras(self.ras)}"

    # Serialisation ---------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of plain values; ``path`` is written only for drags, so clicks
        stay readable by tools that predate it.

        Validates (and normalises) first, so the dict is always writable as JSON.

        Raises
        ------
        RecipeError
            If a field is invalid.
        """
        self.validate()
        return self._plain_dict()

    def _plain_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": self.type,
            "ras": None if self.ras is None else list(self.ras),
            "params": _json_ready(self.params),
            "timestamp": self.timestamp,
            "description": self.description,
        }
        if self.path:
            data["path"] = [list(point) for point in self.path]
        data.update(_json_ready(self.extensions))
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], index: int | None = None) -> RecipeAction:
        """Build and validate an action from its JSON object; ``index`` is named in errors.

        A missing ``timestamp`` reads as 0.0 (unknown); missing ``params`` as none.
        """
        try:
            return cls._from_mapping(data)
        except RecipeError as error:
            raise _relocated(error, action_index=index) from None

    @classmethod
    def _from_mapping(cls, data: Any) -> RecipeAction:
        if not isinstance(data, Mapping):
            raise RecipeError(f"expected an object with a 'type' field, got {data!r}")
        _unknown_keys(data, ACTION_FIELDS)
        if "type" not in data:
            raise RecipeError(f"missing; one of {', '.join(ACTION_TYPES)}", field="type")
        return cls(
            data["type"],
            data.get("ras"),
            _or_default(data.get("params"), {}),
            timestamp=data.get("timestamp", 0.0),
            description=_or_default(data.get("description"), ""),
            path=_or_default(data.get("path"), []),
            extensions=_split_extensions(data),
        )


# --- gold standard -----------------------------------------------------------------------


@dataclasses.dataclass
class GoldStandard:
    """Reference segmentation a replay is compared with.

    Parameters
    ----------
    source : str
        Path of a ``.seg.nrrd`` or label image (relative paths resolve against the
        recipe's folder), or ``"default"`` for the reference shipped with the embedded
        default CT.
    segment : str, optional
        Segment name in that file; None means the recipe's ``segment_name``.
    """

    source: str
    segment: str | None = None

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise RecipeError naming ``gold_standard.source`` / ``.segment`` if invalid."""
        source = _text(self.source, "gold_standard.source", required=True)
        if self.segment is not None:
            self.segment = _text(self.segment, "gold_standard.segment", required=True)
        self.source = source

    def segment_for(self, recipe_segment: str) -> str:
        """The reference segment's name, given the recipe's segment name."""
        return self.segment if self.segment is not None else recipe_segment

    def to_dict(self) -> dict[str, Any]:
        """The object form ``{"source": ..., "segment": ...}``."""
        return {"source": self.source, "segment": self.segment}

    @classmethod
    def from_dict(cls, data: str | Mapping[str, Any]) -> GoldStandard:
        """Read the plain-string form (the source) or the object form."""
        if isinstance(data, str):
            return cls(data)
        if not isinstance(data, Mapping):
            raise RecipeError(
                f"expected a path string or an object with 'source', got {describe_value(data)}",
                field="gold_standard",
            )
        for key in data:
            if key not in GOLD_STANDARD_FIELDS:
                raise RecipeError(
                    f"unknown field; valid fields: {', '.join(GOLD_STANDARD_FIELDS)}",
                    field=f"gold_standard.{key}",
                )
        if "source" not in data:
            raise RecipeError("missing", field="gold_standard.source")
        return cls(data["source"], data.get("segment"))


# --- recipes -----------------------------------------------------------------------------


class _StepCount(int):
    """An int that can also be called, so ``recipe.total_steps`` and
    ``recipe.total_steps()`` both work (the runner's total_steps is a method)."""

    def __call__(self) -> int:
        return int(self)


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _looks_like_path(text: str) -> bool:
    # Slicer SampleData names (MRHead, CTChest...) have neither separators nor suffixes.
    return any(mark in text for mark in ("/", "\\", ".")) or text.startswith("~")


@dataclasses.dataclass
class ActionRecipe:
    """A replayable segmentation: the image, the segment and the actions that build it.

    Parameters
    ----------
    name : str
        Recipe name (used in reports and for branch names).
    sample_data : str
        Slicer SampleData name, image file path, or ``"default"`` (the embedded chest CT).
    segment_name : str
        Segment the actions paint into; required.
    actions : list of RecipeAction
        The steps, in order; step ``i`` is ``actions[i]``.
    gold_standard : GoldStandard, optional
        Reference segmentation for metrics.
    description : str
        Free text.
    metadata : dict
        JSON data; ``created`` (ISO 8601, UTC) is filled if absent; a branch has
        ``parent_recipe`` (name) and ``branch_step`` (step index, -1 = initial state).
    extensions : dict
        Top-level extension data (keys start with ``x_``), kept through load and save.
    source_dir : str, optional
        Folder of the file the recipe was loaded from; relative paths resolve against it.
        Not saved, and ignored by ``==``.

    Raises
    ------
    RecipeError
        At construction, when any field or action is invalid.
    """

    name: str
    sample_data: str = DEFAULT_SAMPLE_DATA
    # Empty is rejected by validation: the default only keeps the positional order.
    segment_name: str = ""
    actions: list[RecipeAction] = dataclasses.field(default_factory=list)
    gold_standard: GoldStandard | None = None
    description: str = ""
    metadata: dict[str, Any] = dataclasses.field(default_factory=dict)
    extensions: dict[str, Any] = dataclasses.field(default_factory=dict)
    source_dir: str | None = dataclasses.field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        self.metadata = _metadata_from(self.metadata)
        self.metadata.setdefault("created", _now_iso())
        self.validate()

    def __len__(self) -> int:
        return len(self.actions)

    def __bool__(self) -> bool:
        # With __len__ alone an empty recipe would be falsy, and `if recipe:` would
        # treat a recipe without actions like no recipe at all.
        return True

    @property
    def total_steps(self) -> _StepCount:
        """Number of steps (actions); usable as ``recipe.total_steps`` or ``...()``."""
        return _StepCount(len(self.actions))

    # Validation ------------------------------------------------------------------------

    def validate(self) -> None:
        """Check every field and action, and normalise them in place.

        Normalising turns numpy values and tuples into plain JSON values (see
        :meth:`RecipeAction.validate`), so a recipe that validates can always be saved.

        Raises
        ------
        RecipeError
            Naming the field, and for an action its 0-based index.
        """
        name = _text(self.name, "name", required=True)
        sample_data = _text(self.sample_data, "sample_data", required=True)
        if self.segment_name == "":
            raise RecipeError(
                "missing; name the segment the recipe paints into", field="segment_name"
            )
        segment_name = _text(self.segment_name, "segment_name", required=True)
        self._validate_actions()
        self._validate_gold_standard()
        description = _text(self.description, "description")
        metadata = _checked_metadata(self.metadata)
        extensions = _extensions(self.extensions)
        self.name, self.sample_data, self.segment_name = name, sample_data, segment_name
        self.description, self.metadata, self.extensions = description, metadata, extensions

    def _validate_gold_standard(self) -> None:
        if self.gold_standard is None:
            return
        if not isinstance(self.gold_standard, GoldStandard):
            raise RecipeError(
                f"expected a GoldStandard, got {self.gold_standard!r}", field="gold_standard"
            )
        self.gold_standard.validate()

    def _validate_actions(self) -> None:
        if not isinstance(self.actions, list):
            raise RecipeError(f"expected a list of actions, got {self.actions!r}", field="actions")
        for index, action in enumerate(self.actions):
            if not isinstance(action, RecipeAction):
                raise RecipeError(f"expected a RecipeAction, got {action!r}", action_index=index)
            action.validate(index)

    # Labels and paths ------------------------------------------------------------------

    def labels(self, initial_state: Mapping[str, Any] | None = None) -> list[str]:
        """Label of every action, each given the parameters in effect before it.

        ``initial_state`` is the effect's parameters before step 0 (unknown values are
        left out of the labels).
        """
        state = dict(initial_state or {})
        result = []
        for action in self.actions:
            result.append(action.label(state))
            state.update(_expanded(action.params))
        return result

    def resolve_path(self, path: str) -> str:
        """Resolve a file path from ``sample_data`` or ``gold_standard`` against the folder
        the recipe was loaded from; ``"default"`` and SampleData names come back unchanged.
        """
        if path == DEFAULT_SAMPLE_DATA or not _looks_like_path(path):
            return path
        expanded = os.path.expanduser(path)
        if os.path.isabs(expanded) or self.source_dir is None:
            return expanded
        return os.path.normpath(os.path.join(self.source_dir, expanded))

    # Serialisation ---------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of plain values, including ``format_version``.

        Validates (and normalises) first, so the dict is always writable as JSON.

        Raises
        ------
        RecipeError
            If a field or action is invalid.
        """
        self.validate()
        data: dict[str, Any] = {
            "format_version": FORMAT_VERSION,
            "name": self.name,
            "description": self.description,
            "sample_data": self.sample_data,
            "segment_name": self.segment_name,
            "gold_standard": None if self.gold_standard is None else self.gold_standard.to_dict(),
            "metadata": _json_ready(self.metadata),
            "actions": [action._plain_dict() for action in self.actions],
        }
        data.update(_json_ready(self.extensions))
        return data

    def to_json(self) -> str:
        """The recipe as JSON text (indent 2)."""
        return _json_text(self.to_dict())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source_dir: str | None = None) -> ActionRecipe:
        """Build and validate a recipe from its JSON object.

        A missing ``format_version`` reads as version 1; ``sample_data`` defaults to
        ``"default"``. Unknown fields are errors unless they start with ``x_``.
        """
        if not isinstance(data, Mapping):
            raise RecipeError(f"expected a JSON object at the top level, got {type(data).__name__}")
        _check_format_version(data.get("format_version", 1))
        _unknown_keys(data, RECIPE_FIELDS)
        for key in ("name", "segment_name", "actions"):
            if key not in data:
                raise RecipeError("missing; every recipe needs it", field=key)
        if not isinstance(data["actions"], list):
            raise RecipeError(
                f"expected a list of actions, got {type(data['actions']).__name__}",
                field="actions",
            )
        gold = data.get("gold_standard")
        return cls(
            name=data["name"],
            sample_data=data.get("sample_data", DEFAULT_SAMPLE_DATA),
            segment_name=data["segment_name"],
            actions=[RecipeAction.from_dict(a, index=i) for i, a in enumerate(data["actions"])],
            gold_standard=None if gold is None else GoldStandard.from_dict(gold),
            description=_or_default(data.get("description"), ""),
            metadata=_metadata_from(data.get("metadata")),
            extensions=_split_extensions(data),
            source_dir=source_dir,
        )

    @classmethod
    def from_json(cls, text: str | bytes, source_dir: str | None = None) -> ActionRecipe:
        """Parse and validate JSON text (str, or UTF-8 bytes); errors name the field.

        A leading byte-order mark is ignored. Syntax errors give the line and column.

        Raises
        ------
        RecipeError
            For every problem with the text or its content, never another type.
        """
        data = _parse_json(_json_source(text))
        return cls.from_dict(data, source_dir=source_dir)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Validate and write the recipe as JSON.

        The text goes to a temporary file in the target's folder that then replaces the
        target in one step, so a failed save never leaves a half-written or invalid file.
        A symbolic link is followed: the file it points to is replaced (keeping its
        permissions) and the link stays.

        Raises
        ------
        RecipeError
            If the recipe is invalid or ``path`` is not a file path.
        OSError
            If the file cannot be written.
        """
        name = _file_name(path)
        text = self.to_json() + "\n"
        target = os.path.realpath(name)
        _write_atomically(target, text)
        shown = name if target == os.path.abspath(name) else f"{name} (-> {target})"
        logger.info("Saved recipe '%s' (%d steps) to %s", self.name, len(self), shown)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ActionRecipe:
        """Read and validate a recipe file; errors name the file.

        Raises
        ------
        RecipeNotFoundError
            No file at ``path``.
        RecipeError
            ``path`` is not a path, names a folder or an unreadable file, or the file
            is not a valid recipe.
        """
        name = _file_name(path)
        content = _read_bytes(name)
        try:
            recipe = cls.from_json(content, source_dir=os.path.dirname(os.path.abspath(name)))
        except RecipeError as error:
            raise _relocated(error, source=name) from None
        logger.debug("Loaded recipe '%s' (%d steps) from %s", recipe.name, len(recipe), name)
        return recipe


# --- files and JSON text ------------------------------------------------------------------


def _file_name(path: Any) -> str:
    name = None
    if isinstance(path, (str, bytes, os.PathLike)):
        # A PathLike whose __fspath__ returns neither str nor bytes raises TypeError.
        with contextlib.suppress(TypeError):
            name = os.fsdecode(path)
    if not name:
        raise RecipeError(
            f"expected the path of a recipe file (str or os.PathLike), got {describe_value(path)}"
        )
    return name


def _read_bytes(name: str) -> bytes:
    try:
        with open(name, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        raise RecipeNotFoundError("no such recipe file; check the path", source=name) from None
    except OSError as error:
        if os.path.isdir(name):
            raise RecipeError(
                "is a folder, not a recipe file; give the path of a .json file", source=name
            ) from None
        raise RecipeError(
            f"cannot be read ({error.strerror or error}); check the file's permissions",
            source=name,
        ) from None
    except ValueError as error:
        # open() refuses paths with NUL characters with a ValueError.
        raise RecipeError(f"not a usable file path ({error})", source=name) from None


def _json_source(text: Any) -> str:
    if isinstance(text, (bytes, bytearray)):
        try:
            # utf-8-sig drops the byte-order mark that some Windows editors write.
            text = bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise RecipeError(
                f"not UTF-8 text ({error.reason} at byte {error.start}); save it as UTF-8"
            ) from None
    if not isinstance(text, str):
        raise RecipeError(f"expected JSON text (str or bytes), got {type(text).__name__}")
    return text.removeprefix("\ufeff")


class _HugeInteger:
    """Stands for a JSON integer too long for Python to convert, so that validation can
    reject it with the field's name instead of the parser failing without one."""

    def __init__(self, digits: int) -> None:
        self.digits = digits

    def __repr__(self) -> str:
        return f"<integer of {self.digits} digits>"


def _parse_int(text: str) -> int | _HugeInteger:
    try:
        return int(text)
    except ValueError:
        return _HugeInteger(len(text.lstrip("-")))


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_int=_parse_int)
    except json.JSONDecodeError as error:
        raise RecipeError(
            f"not valid JSON at line {error.lineno}, column {error.colno}: {error.msg}"
        ) from None
    except RecursionError:
        raise RecipeError(_too_deep(text)) from None


# A JSON string (escapes included) or a bracket; brackets inside strings are not nesting.
_JSON_NESTING_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _too_deep(text: str) -> str:
    """Where the text's lists and objects first nest deeper than MAX_NESTING levels."""
    depth = 0
    for match in _JSON_NESTING_TOKEN.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
        elif token in ("]", "}"):
            depth -= 1
        if depth > MAX_NESTING:
            line = text.count("\n", 0, match.start()) + 1
            column = match.start() - text.rfind("\n", 0, match.start())
            return (
                f"lists and objects nested deeper than {MAX_NESTING} levels at line {line}, "
                f"column {column}; recipes never need that many"
            )
    return f"lists and objects nested too deeply to read (limit {MAX_NESTING} levels)"


def _json_text(value: Any, level: int = 0) -> str:
    """JSON with an indent of 2, but lists of plain values (points) kept on one line."""
    inner = "  " * (level + 1)
    outer = "  " * level
    if isinstance(value, dict) and value:
        items = [
            f"{inner}{_json_leaf(key)}: {_json_text(item, level + 1)}"
            for key, item in value.items()
        ]
        return "{\n" + ",\n".join(items) + f"\n{outer}}}"
    if isinstance(value, list) and any(isinstance(item, (dict, list)) for item in value):
        items = [f"{inner}{_json_text(item, level + 1)}" for item in value]
        return "[\n" + ",\n".join(items) + f"\n{outer}]"
    return _json_leaf(value)


def _json_leaf(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate (valid in JSON text, e.g. "\\ud800") has no UTF-8 form;
        # escaping keeps the value and lets the file be written as UTF-8.
        return json.dumps(value, ensure_ascii=True, allow_nan=False)
    return text


def _check_format_version(value: Any) -> None:
    version = _integer(value)
    if version is None or version < 1:
        raise RecipeError(
            f"expected a positive integer, got {describe_value(value)}", field="format_version"
        )
    if version > FORMAT_VERSION:
        raise RecipeError(
            f"version {describe_value(version)} is newer than this tool reads "
            f"(up to {FORMAT_VERSION}); "
            "update the Adaptive Brush extension",
            field="format_version",
        )


def _metadata_from(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise RecipeError(f"expected an object, got {describe_value(value)}", field="metadata")
    return dict(value)


def _checked_metadata(metadata: Any) -> dict[str, Any]:
    """Metadata as plain JSON values, with ``created``, ``parent_recipe`` and
    ``branch_step`` checked."""
    checked: dict[str, Any] = {}
    for key, value in _metadata_from(metadata).items():
        if not isinstance(key, str):
            raise RecipeError(f"keys must be strings, got {describe_value(key)}", field="metadata")
        checked[key] = _plain_json(value, f"metadata.{key}")
    checked["created"] = _created(checked.get("created"))
    if "parent_recipe" in checked:
        _text(checked["parent_recipe"], "metadata.parent_recipe", required=True)
    if "branch_step" in checked:
        checked["branch_step"] = _step_index(checked["branch_step"], "metadata.branch_step")
    return checked


# ISO 8601 date and time of day in the extended format, with an optional UTC offset.
_ISO_DATE_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?"
    r"(?:[Zz]|[+-](\d{2}):?(\d{2}))?"
)


def _created(value: Any) -> str:
    text = _text(value, "metadata.created", required=True)
    if not _is_iso_date_time(text):
        raise RecipeError(
            f"expected an ISO 8601 date and time such as 2026-01-02T03:04:05+00:00, "
            f"got {describe_value(text)}",
            field="metadata.created",
        )
    return text


def _is_iso_date_time(text: str) -> bool:
    # A regular expression rather than datetime.fromisoformat, whose accepted forms
    # differ between Python versions (3.10 rejects "Z") and include bare dates.
    match = _ISO_DATE_TIME.fullmatch(text)
    if match is None:
        return False
    year, month, day, hour, minute, second, offset_h, offset_m = (
        int(group) if group is not None else 0 for group in match.groups()
    )
    try:
        datetime(year, month, day, hour, minute, second)
        timezone(timedelta(hours=offset_h, minutes=offset_m))
    except ValueError:
        return False
    return offset_m < 60


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json keeps the last of two equal keys; in a hand-edited recipe that hides a mistake.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise RecipeError("appears twice in one object; keep one", field=key)
        result[key] = value
    return result


def _write_atomically(target: str, text: str) -> None:
    folder = os.path.dirname(target)
    handle, temporary = tempfile.mkstemp(
        prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=folder
    )
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, _file_mode(target))
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _file_mode(target: str) -> int:
    # mkstemp creates private files; keep the old file's mode, or the usual one for new files.
    try:
        return os.stat(target).st_mode & 0o777
    except FileNotFoundError:
        return 0o644
