"""Declaration and validation of one brush parameter.

Values must already have their parameter's type: Python or numpy numbers for ``float`` and
``int``, Python or numpy booleans for ``bool``, a list, tuple or numpy array of three
numbers for ``vector3``. Valid values come back as plain Python ``float``, ``int``,
``bool``, ``str`` or tuple of float, so they can be written as JSON. Strings are never
read as numbers or booleans: recipes and the Segment Editor node store real JSON numbers
and booleans, so a string there is a typo (``"1_0"``, ``"TRUE"``).

The value helpers at the end (:func:`finite_float`, :func:`sequence_items`,
:func:`finite_vector3`, :func:`describe_value`) are shared with the recipe model, so
both read values by one rule.
"""

from __future__ import annotations

import math
import numbers
import reprlib
from collections.abc import Sequence, Set
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import ParameterError

KINDS = ("float", "int", "bool", "choice", "vector3")


@dataclass(frozen=True)
class ParamSpec:
    """One parameter the effect understands.

    Parameters
    ----------
    name : str
        Name used in recipes, in the Segment Editor node and in the Python API.
    default : Any
        Value when the user never set it.
    kind : str
        One of ``float``, ``int``, ``bool``, ``choice`` or ``vector3``.
    minimum, maximum : float, optional
        Inclusive range for numbers.
    choices : tuple of str, optional
        Valid values for ``choice`` parameters.
    unit : str
        Unit shown to users (``mm``, ``%``...).
    doc : str
        One-sentence description for docs and tooltips.
    algorithm : str, optional
        The algorithm that reads it; None for parameters every algorithm shares.
    """

    name: str
    default: Any
    kind: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None
    unit: str = ""
    doc: str = ""
    algorithm: str | None = None

    def validate(self, value: Any) -> Any:
        """Return ``value`` as a plain Python value of this parameter's type.

        Raises
        ------
        ParameterError
            The value has another type (strings included), is not finite, is out of
            range, or is not one of the choices.
        """
        if self.kind == "bool":
            return self._validate_bool(value)
        if self.kind == "choice":
            return self._validate_choice(value)
        if self.kind == "vector3":
            return self._validate_vector(value)
        return self._validate_number(value)

    def _fail(self, value: Any, expected: str) -> ParameterError:
        hint = ""
        if isinstance(value, str) and self.kind != "choice":
            hint = "; write numbers and true/false without quotes"
        elif isinstance(value, Set):
            hint = "; a set has no order, use a list"
        return ParameterError(
            f"parameter '{self.name}': got {describe_value(value)}, expected {expected}{hint}"
        )

    def _validate_bool(self, value: Any) -> bool:
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        # 0 and 1 are accepted for tools that write flags as integers.
        if _is_integer(value) and value in (0, 1):
            return bool(value)
        raise self._fail(value, "true or false")

    def _validate_choice(self, value: Any) -> str:
        assert self.choices is not None
        if isinstance(value, str) and value in self.choices:
            # The declared string, so a str subclass (numpy.str_) never leaks out.
            return self.choices[self.choices.index(value)]
        raise self._fail(value, "one of " + ", ".join(self.choices))

    def _validate_vector(self, value: Any) -> tuple[float, float, float] | None:
        if value is None:
            return None
        vector = finite_vector3(value)
        if vector is None:
            raise self._fail(value, "three finite numbers (a list, tuple or array)")
        return vector

    def _validate_number(self, value: Any) -> float | int:
        expected = "an integer" if self.kind == "int" else "a finite number"
        if not _is_real(value):
            raise self._fail(value, expected)
        try:
            number = float(value)
        except OverflowError:
            # Only integers too large for a float get here: finite, but out of any range.
            raise self._out_of_range(value) from None
        if not math.isfinite(number):
            raise self._fail(value, expected)
        if self.kind == "int":
            if number != int(number):
                raise self._fail(value, expected)
            number = int(number)
        low = -math.inf if self.minimum is None else self.minimum
        high = math.inf if self.maximum is None else self.maximum
        if not low <= number <= high:
            raise self._out_of_range(value)
        return number

    def _out_of_range(self, value: Any) -> ParameterError:
        low = -math.inf if self.minimum is None else self.minimum
        high = math.inf if self.maximum is None else self.maximum
        unit = f" {self.unit}" if self.unit else ""
        return ParameterError(
            f"parameter '{self.name}': {describe_value(value)} is out of range "
            f"[{_fmt(low)}, {_fmt(high)}]{unit}"
        )


def _fmt(number: float) -> str:
    return f"{number:g}"


# --- value helpers -----------------------------------------------------------------------


def _unwrap(value: Any) -> Any:
    # A 0-d array (what some numpy reductions give) stands for its one element.
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value[()]
    return value


def _is_real(value: Any) -> bool:
    # bool is an int subclass, but True as a radius or coordinate is always a mistake;
    # numpy.bool_ is not a numbers.Real, so only Python's bool needs excluding.
    value = _unwrap(value)
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_integer(value: Any) -> bool:
    value = _unwrap(value)
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def finite_float(value: Any) -> float | None:
    """``value`` as a plain float if it is a finite real number, else None.

    Accepts Python and numpy integers and floats (and 0-d arrays of them); rejects
    booleans, strings, NaN, infinity and integers too large for a float.
    """
    if not _is_real(value):
        return None
    try:
        number = float(_unwrap(value))
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def sequence_items(value: Any) -> list[Any] | None:
    """The items of an ordered collection (list, tuple, numpy array), else None.

    Strings, bytes, mappings and sets are not item lists: a set has no order, so it
    cannot be a point or a path. A 2-d array gives its rows.
    """
    if isinstance(value, np.ndarray):
        return list(value) if value.ndim >= 1 else None
    if isinstance(value, (str, bytes, bytearray)) or not isinstance(value, Sequence):
        return None
    return list(value)


def finite_vector3(value: Any) -> tuple[float, float, float] | None:
    """Three finite numbers from a list, tuple or array, as plain floats; else None."""
    items = sequence_items(value)
    if items is None or len(items) != 3:
        return None
    x, y, z = (finite_float(item) for item in items)
    if x is None or y is None or z is None:
        return None
    return (x, y, z)


class _ShortRepr(reprlib.Repr):
    """reprlib's bounded repr, with huge integers described instead of printed."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel = 3
        self.maxstring = 60
        self.maxother = 60
        self.maxlist = self.maxtuple = self.maxdict = self.maxset = self.maxfrozenset = 6

    def repr_int(self, x: int, level: int) -> str:
        # repr() of an int with more than 4300 digits raises ValueError; nobody reads
        # that many digits in a message anyway.
        if x.bit_length() > 128:
            digits = int(x.bit_length() * math.log10(2)) + 1
            return f"<integer of about {digits} digits>"
        return repr(x)


_SHORT_REPR = _ShortRepr()


def describe_value(value: Any) -> str:
    """A short repr of ``value`` for error messages; never raises.

    Long strings and collections are cut, deep nesting is shown as ``...`` and integers
    of more than about 38 digits are described by their size.
    """
    try:
        return _SHORT_REPR.repr(value)
    except Exception:  # a message must survive any object's broken repr
        return f"<{type(value).__name__} object>"
