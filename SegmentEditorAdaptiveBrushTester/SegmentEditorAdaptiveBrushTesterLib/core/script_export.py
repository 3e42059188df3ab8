"""Export a recipe as a short Python script that replays it in the Slicer Python console.

The script defines ``build_recipe()``, which rebuilds the recipe with one
``RecipeAction.paint(...)``-style call per action (each under a comment with the action's
label), and, when run as a script, replays it with ``SteppingRecipeRunner``. The generated
text keeps lines within 100 characters and passes ``ruff check``, so it can live in a
project next to hand-written code.

Pure Python: imports neither slicer, vtk nor qt.
"""

from __future__ import annotations

import json
import keyword
import logging
import os
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .recipe import STROKE_TYPES, ActionRecipe, RecipeAction

logger = logging.getLogger(__name__)

MAX_LINE = 100
INDENT = "    "
PACKAGE = "SegmentEditorAdaptiveBrushTesterLib"

# Keyword names of the action constructors; parameters with these names go in params={...}.
_CONSTRUCTOR_KEYWORDS = frozenset({"ras", "params", "path", "description", "name", "value"})


@dataclass(frozen=True)
class _Code:
    """Source text that is written as is (a variable name)."""

    text: str


@dataclass(frozen=True)
class _Call:
    """A call ``function(arguments)``; an argument's keyword is "" when positional."""

    function: str
    arguments: tuple[tuple[str, Any], ...]


def export_python_script(recipe: ActionRecipe) -> str:
    """Python source that rebuilds ``recipe`` and replays it in the Slicer Python console.

    Parameters
    ----------
    recipe : ActionRecipe
        A valid recipe; it is validated first.

    Returns
    -------
    str
        The script. ``build_recipe()`` in it returns a recipe equal to ``recipe``; run as
        ``__main__`` it sets up the scene, runs every step and prints the step count.
    """
    recipe.validate()
    lines = [
        *_module_docstring(recipe),
        "",
        *_import_lines(recipe),
        "",
        "",
        *_build_function(recipe),
        "",
        "",
        *_main_block(),
    ]
    logger.debug("Exported recipe '%s' as a %d-line script", recipe.name, len(lines))
    return "\n".join(lines) + "\n"


# --- script sections ---------------------------------------------------------------------


def _module_docstring(recipe: ActionRecipe) -> list[str]:
    image = "the embedded default CT" if recipe.sample_data == "default" else recipe.sample_data
    about = f"Recipe {_plain(recipe.name)}: {len(recipe)} steps on {_plain(image)}."
    usage = (
        'Run it in the Slicer Python console with exec(open("this_file.py").read()), '
        "or edit build_recipe() to try variations."
    )
    return [
        '"""Replay an Adaptive Brush recipe in the Slicer Python console.',
        "",
        *textwrap.wrap(about, MAX_LINE),
        *textwrap.wrap(usage, MAX_LINE),
        '"""',
    ]


def _import_lines(recipe: ActionRecipe) -> list[str]:
    # Import only what the script uses (ruff rejects unused imports), sorted as isort does.
    names = {"ActionRecipe", "RecipeAction", "SteppingRecipeRunner"}
    if recipe.gold_standard is not None:
        names.add("GoldStandard")
    ordered = sorted(names)
    line = f"from {PACKAGE} import {', '.join(ordered)}"
    if len(line) <= MAX_LINE:
        return [line]
    return [f"from {PACKAGE} import (", *(f"{INDENT}{name}," for name in ordered), ")"]


def _build_function(recipe: ActionRecipe) -> list[str]:
    lines = [
        "def build_recipe() -> ActionRecipe:",
        f'{INDENT}"""Build the recipe as Python objects ({len(recipe)} steps)."""',
    ]
    lines += _actions_block(recipe.actions, recipe.labels())
    lines += _render(_recipe_call(recipe), 1, head="return ", tail="")
    return lines


def _actions_block(actions: Sequence[RecipeAction], labels: Sequence[str]) -> list[str]:
    if not actions:
        return [f"{INDENT}actions: list[RecipeAction] = []"]
    lines = [f"{INDENT}actions = ["]
    for action, label in zip(actions, labels, strict=True):
        lines += _comment(label, 2)
        lines += _render(_action_call(action), 2)
    lines.append(f"{INDENT}]")
    lines += _timestamp_lines(actions)
    lines += _extension_lines(actions)
    return lines


def _timestamp_lines(actions: Sequence[RecipeAction]) -> list[str]:
    return [
        f"{INDENT}# When each action was recorded (seconds since the epoch); informational only,",
        f"{INDENT}# so editing the actions above needs no change here.",
        *_render([action.timestamp for action in actions], 1, head="timestamps = ", tail=""),
        f"{INDENT}for action, timestamp in zip(actions, timestamps, strict=False):",
        f"{INDENT * 2}action.timestamp = timestamp",
    ]


def _extension_lines(actions: Sequence[RecipeAction]) -> list[str]:
    lines: list[str] = []
    for index, action in enumerate(actions):
        if action.extensions:
            head = f"actions[{index}].extensions = "
            lines += _render(action.extensions, 1, head=head, tail="")
    return lines


def _main_block() -> list[str]:
    return [
        'if __name__ == "__main__":',
        f"{INDENT}runner = SteppingRecipeRunner(build_recipe())",
        f"{INDENT}if not runner.setup():",
        f'{INDENT * 2}raise RuntimeError("Setting up the scene failed; see the log above.")',
        f"{INDENT}steps = runner.run_to_end()",
        f'{INDENT}print(f"{{runner.recipe.name}}: replayed {{steps}} steps")',
    ]


# --- calls for actions and the recipe ----------------------------------------------------


def _action_call(action: RecipeAction) -> _Call:
    arguments: list[tuple[str, Any]]
    if action.type in STROKE_TYPES:
        arguments = [("", action.ras)]
        if action.path:
            arguments.append(("path", list(action.path)))
        arguments += _param_arguments(action.params)
    elif action.type == "set_algorithm":
        others = {k: v for k, v in action.params.items() if k != "algorithm"}
        arguments = [("", action.params["algorithm"]), *_param_arguments(others)]
    else:
        arguments = _set_param_arguments(action.params)
    if action.ras is not None and action.type not in STROKE_TYPES:
        arguments.append(("ras", action.ras))
    if action.description:
        arguments.append(("description", action.description))
    return _Call(f"RecipeAction.{action.type}", tuple(arguments))


def _param_arguments(params: Mapping[str, Any]) -> list[tuple[str, Any]]:
    # Keywords read best; a name that cannot be a keyword forces the params={...} form.
    if all(_usable_keyword(name) for name in params):
        return list(params.items())
    return [("params", dict(params))]


def _set_param_arguments(params: Mapping[str, Any]) -> list[tuple[str, Any]]:
    if len(params) == 1:
        ((name, value),) = params.items()
        return [("", name), ("", value)]
    return [("params", dict(params))]


def _usable_keyword(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name) and name not in _CONSTRUCTOR_KEYWORDS


def _recipe_call(recipe: ActionRecipe) -> _Call:
    arguments: list[tuple[str, Any]] = [
        ("name", recipe.name),
        ("sample_data", recipe.sample_data),
        ("segment_name", recipe.segment_name),
        ("actions", _Code("actions")),
    ]
    if recipe.gold_standard is not None:
        gold = recipe.gold_standard
        gold_arguments: tuple[tuple[str, Any], ...] = (("", gold.source),)
        if gold.segment is not None:
            gold_arguments += (("segment", gold.segment),)
        arguments.append(("gold_standard", _Call("GoldStandard", gold_arguments)))
    if recipe.description:
        arguments.append(("description", recipe.description))
    arguments.append(("metadata", recipe.metadata))
    if recipe.extensions:
        arguments.append(("extensions", recipe.extensions))
    if recipe.source_dir is not None and _has_relative_file(recipe):
        # Relative file paths resolve against the folder the recipe was loaded from.
        arguments.append(("source_dir", recipe.source_dir))
    return _Call("ActionRecipe", tuple(arguments))


def _has_relative_file(recipe: ActionRecipe) -> bool:
    paths = [recipe.sample_data]
    if recipe.gold_standard is not None:
        paths.append(recipe.gold_standard.source)
    return any(recipe.resolve_path(path) != path and not os.path.isabs(path) for path in paths)


# --- rendering values as source within MAX_LINE ------------------------------------------


def _literal(value: Any) -> str:
    """Source text of ``value`` on one line."""
    if isinstance(value, _Code):
        return value.text
    if isinstance(value, _Call):
        return f"{value.function}({', '.join(_argument(k, v) for k, v in value.arguments)})"
    if isinstance(value, str):
        return _string_literal(value)
    if isinstance(value, tuple):
        inside = ", ".join(_literal(item) for item in value)
        return f"({inside},)" if len(value) == 1 else f"({inside})"
    if isinstance(value, list):
        return "[" + ", ".join(_literal(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    raise TypeError(f"cannot write {type(value).__name__} values into a recipe script")


def _argument(keyword_name: str, value: Any) -> str:
    return f"{keyword_name}={_literal(value)}" if keyword_name else _literal(value)


def _string_literal(text: str) -> str:
    # Quotes as ruff format would write them: double, unless only that avoids escapes.
    if '"' in text and "'" not in text:
        return repr(text)
    # JSON string syntax is valid Python; escape everything when the text cannot be
    # written as UTF-8 (lone surrogates).
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(text)
    return json.dumps(text, ensure_ascii=False)


def _render(value: Any, level: int, head: str = "", tail: str = ",") -> list[str]:
    """Lines for ``head + value + tail`` at ``level`` indents, split if too long."""
    pad = INDENT * level
    flat = f"{pad}{head}{_literal(value)}{tail}"
    if len(flat) <= MAX_LINE:
        return [flat]
    if isinstance(value, _Call):
        inner = [line for k, v in value.arguments for line in _render_argument(k, v, level + 1)]
        return [f"{pad}{head}{value.function}(", *inner, f"{pad}){tail}"]
    if isinstance(value, str):
        pieces = _split_text(value, MAX_LINE - len(INDENT) * (level + 1))
        inner = [f"{pad}{INDENT}{_string_literal(piece)}" for piece in pieces]
        return [f"{pad}{head}(", *inner, f"{pad}){tail}"]
    if isinstance(value, dict) and value:
        inner = [
            line for k, v in value.items() for line in _render(v, level + 1, _literal(k) + ": ")
        ]
        return [f"{pad}{head}{{", *inner, f"{pad}}}{tail}"]
    if isinstance(value, (list, tuple)) and value:
        opening, closing = ("[", "]") if isinstance(value, list) else ("(", ")")
        if all(_is_numeric(item) for item in value):
            inner = _packed([_literal(item) + "," for item in value], level + 1)
        else:
            inner = [line for item in value for line in _render(item, level + 1)]
        return [f"{pad}{head}{opening}", *inner, f"{pad}{closing}{tail}"]
    return [flat]


def _is_numeric(value: Any) -> bool:
    """A number or a flat tuple of numbers (a point): short items worth packing."""
    if isinstance(value, tuple):
        return all(_is_numeric(item) and not isinstance(item, tuple) for item in value)
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _packed(items: list[str], level: int) -> list[str]:
    # Several points or timestamps per line keep a long drag to a few readable lines.
    pad = INDENT * level
    lines: list[str] = []
    for item in items:
        if lines and len(f"{lines[-1]} {item}") <= MAX_LINE:
            lines[-1] = f"{lines[-1]} {item}"
        else:
            lines.append(f"{pad}{item}")
    return lines


def _render_argument(keyword_name: str, value: Any, level: int) -> list[str]:
    return _render(value, level, head=f"{keyword_name}=" if keyword_name else "")


def _split_text(text: str, width: int) -> list[str]:
    """Pieces of ``text`` whose literals fit in ``width``; joined they give ``text``."""
    pieces: list[str] = []
    current = ""
    for word in _words(text):
        if current and len(_string_literal(current + word)) > width:
            pieces.append(current)
            current = ""
        current += word
        while len(_string_literal(current)) > width and len(current) > 1:
            cut = _longest_fitting_prefix(current, width)
            pieces.append(current[:cut])
            current = current[cut:]
    if current:
        pieces.append(current)
    return pieces


def _words(text: str) -> list[str]:
    """Words with their trailing spaces, so that splitting keeps every character."""
    words: list[str] = []
    for part in text.split(" "):
        words.append(part + " ")
    words[-1] = words[-1][:-1]
    return [word for word in words if word]


def _longest_fitting_prefix(text: str, width: int) -> int:
    cut = len(text) - 1
    while cut > 1 and len(_string_literal(text[:cut])) > width:
        cut -= 1
    return cut


def _comment(text: str, level: int) -> list[str]:
    pad = INDENT * level
    lines = textwrap.wrap(_plain(text), MAX_LINE - len(pad) - 2, break_long_words=True)
    return [f"{pad}# {line}" for line in lines] or [f"{pad}#"]


def _plain(text: str) -> str:
    """Text safe inside a comment or docstring: one line, no quotes or backslashes."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(cleaned.replace("\\", "/").replace('"', "'").split())
