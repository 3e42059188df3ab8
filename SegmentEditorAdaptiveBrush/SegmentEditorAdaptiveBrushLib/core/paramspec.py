"""Declaration and validation of one brush parameter."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

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
        """Return ``value`` normalised to this parameter's type, or raise ParameterError."""
        if self.kind == "bool":
            return self._validate_bool(value)
        if self.kind == "choice":
            return self._validate_choice(value)
        if self.kind == "vector3":
            return self._validate_vector(value)
        return self._validate_number(value)

    def _fail(self, value: Any, expected: str) -> ParameterError:
        return ParameterError(f"parameter '{self.name}': got {value!r}, expected {expected}")

    def _validate_bool(self, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise self._fail(value, "true or false")

    def _validate_choice(self, value: Any) -> str:
        assert self.choices is not None
        if isinstance(value, str) and value in self.choices:
            return value
        raise self._fail(value, "one of " + ", ".join(self.choices))

    def _validate_vector(self, value: Any) -> tuple[float, float, float] | None:
        if value is None:
            return None
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 3:
            raise self._fail(value, "three finite numbers")
        numbers = tuple(self._finite(v, "three finite numbers") for v in value)
        return (numbers[0], numbers[1], numbers[2])

    def _finite(self, value: Any, expected: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            if not isinstance(value, str):
                raise self._fail(value, expected)
            try:
                value = float(value)
            except ValueError:
                raise self._fail(value, expected) from None
        number = float(value)
        if not math.isfinite(number):
            raise self._fail(value, expected)
        return number

    def _validate_number(self, value: Any) -> float | int:
        expected = "an integer" if self.kind == "int" else "a finite number"
        number = self._finite(value, expected)
        if self.kind == "int":
            if number != int(number):
                raise self._fail(value, expected)
            number = int(number)
        low = -math.inf if self.minimum is None else self.minimum
        high = math.inf if self.maximum is None else self.maximum
        if not low <= number <= high:
            unit = f" {self.unit}" if self.unit else ""
            raise ParameterError(
                f"parameter '{self.name}': {value!r} is out of range "
                f"[{_fmt(low)}, {_fmt(high)}]{unit}"
            )
        return number


def _fmt(number: float) -> str:
    return f"{number:g}"
