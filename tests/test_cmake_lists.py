"""The Slicer build lists every file the modules need.

Slicer installs only the files a module's CMakeLists.txt names, so a Python file added to
a Lib and forgotten there works from the source tree but is missing from every built or
installed extension. These tests read both module CMakeLists and the top-level one.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULES = ("SegmentEditorAdaptiveBrush", "SegmentEditorAdaptiveBrushTester")


def cmake_list(text: str, variable: str) -> list[str]:
    """Items of ``set(<variable> ...)`` with ``${MODULE_NAME}`` substituted."""
    text = re.sub(r"#[^\n]*", "", text)
    match = re.search(rf"\bset\(\s*{re.escape(variable)}\b(.*?)\)", text, re.DOTALL)
    if match is None:
        return []
    name = module_name(text)
    return [item.replace("${MODULE_NAME}", name) for item in match.group(1).split()]


def module_name(text: str) -> str:
    match = re.search(r"\bset\(\s*MODULE_NAME\s+(\S+?)\s*\)", text)
    assert match is not None, "CMakeLists.txt does not set MODULE_NAME"
    return match.group(1)


def read_cmake(module: str) -> str:
    return (ROOT / module / "CMakeLists.txt").read_text(encoding="utf-8")


def files_on_disk(module: str, pattern: str) -> set[str]:
    base = ROOT / module
    return {
        path.relative_to(base).as_posix()
        for path in (base / f"{module}Lib").rglob(pattern)
        if "__pycache__" not in path.parts
    }


def test_parser_reads_items_and_substitutes_the_module_name():
    text = """set(MODULE_NAME Foo)
    # a comment with set(MODULE_PYTHON_SCRIPTS nothing)
    set(MODULE_PYTHON_SCRIPTS
      ${MODULE_NAME}.py  # the module
      ${MODULE_NAME}Lib/a.py
      )"""
    assert cmake_list(text, "MODULE_PYTHON_SCRIPTS") == ["Foo.py", "FooLib/a.py"]


@pytest.mark.parametrize("module", MODULES)
def test_module_name_matches_the_folder(module):
    assert module_name(read_cmake(module)) == module


@pytest.mark.parametrize("module", MODULES)
def test_every_python_file_of_the_lib_is_listed(module):
    listed = set(cmake_list(read_cmake(module), "MODULE_PYTHON_SCRIPTS"))
    missing = files_on_disk(module, "*.py") - listed
    assert not missing, f"add to {module}/CMakeLists.txt MODULE_PYTHON_SCRIPTS: {sorted(missing)}"
    assert f"{module}.py" in listed


@pytest.mark.parametrize("module", MODULES)
def test_every_listed_file_exists(module):
    text = read_cmake(module)
    listed = cmake_list(text, "MODULE_PYTHON_SCRIPTS") + cmake_list(text, "MODULE_PYTHON_RESOURCES")
    absent = [item for item in listed if not (ROOT / module / item).is_file()]
    assert not absent, f"{module}/CMakeLists.txt lists files that do not exist: {absent}"


def test_every_shipped_recipe_is_a_resource():
    module = "SegmentEditorAdaptiveBrushTester"
    resources = set(cmake_list(read_cmake(module), "MODULE_PYTHON_RESOURCES"))
    recipes = files_on_disk(module, "*.json")
    assert recipes, "no shipped recipes found"
    assert recipes <= resources, f"add to MODULE_PYTHON_RESOURCES: {sorted(recipes - resources)}"


@pytest.mark.parametrize("module", MODULES)
def test_module_icon_is_a_resource(module):
    resources = cmake_list(read_cmake(module), "MODULE_PYTHON_RESOURCES")
    assert f"Resources/Icons/{module}.png" in resources


def test_effect_icon_is_a_resource():
    resources = cmake_list(read_cmake(MODULES[0]), "MODULE_PYTHON_RESOURCES")
    assert "Resources/Icons/SegmentEditorAdaptiveBrushEffect.png" in resources


@pytest.mark.parametrize("module", MODULES)
def test_module_is_built_and_its_self_test_registered(module):
    text = read_cmake(module)
    assert re.search(r"slicerMacroBuildScriptedModule\(\s*NAME \$\{MODULE_NAME\}", text)
    assert re.search(r"slicer_add_python_unittest\(\s*SCRIPT \$\{MODULE_NAME\}\.py\s*\)", text)


def test_top_level_is_an_extension_with_both_modules():
    text = (ROOT / "CMakeLists.txt").read_text(encoding="utf-8")
    assert "project(SlicerAdaptiveBrush)" in text
    assert 'set(EXTENSION_CATEGORY "Segmentation")' in text
    assert 'set(EXTENSION_DEPENDS "NA")' in text
    assert "find_package(Slicer REQUIRED)" in text
    assert "include(${Slicer_USE_FILE})" in text
    for module in MODULES:
        assert f"add_subdirectory({module})" in text
    assert text.index("include(${Slicer_EXTENSION_GENERATE_CONFIG})") < text.index(
        "include(${Slicer_EXTENSION_CPACK})"
    )
