"""The GUI files compile, and every file keeps to its layer (see docs/architecture.md).

Desktop Slicer is not available in CI, so the Qt layer cannot run here; these checks read
the source instead. Layering, by folder:

- ``core/``: imports neither slicer, vtk nor qt (nor ctk or ``qSlicer*`` / ``qMRML*``),
  and nothing from the scene or GUI layers.
- ``scene/``: imports neither qt, ctk nor ``slicer.qSlicer*`` / ``qMRML*`` classes, and
  nothing from the GUI layer.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIBS = (
    ROOT / "SegmentEditorAdaptiveBrush" / "SegmentEditorAdaptiveBrushLib",
    ROOT / "SegmentEditorAdaptiveBrushTester" / "SegmentEditorAdaptiveBrushTesterLib",
)
EFFECT_FILE = LIBS[0] / "gui" / "SegmentEditorEffect.py"
PURE_GUI_FILES = (LIBS[0] / "gui" / "panel_layout.py", LIBS[0] / "gui" / "stroke_input.py")
GUI_FILES = (
    ROOT / "SegmentEditorAdaptiveBrush" / "SegmentEditorAdaptiveBrush.py",
    ROOT / "SegmentEditorAdaptiveBrushTester" / "SegmentEditorAdaptiveBrushTester.py",
    ROOT / "SegmentEditorAdaptiveBrushTester" / "Testing" / "run_self_tests.py",
    *sorted((LIBS[0] / "gui").glob("*.py")),
)
QT_ROOTS = {"qt", "ctk", "PythonQt"}
QT_CLASS_PREFIXES = ("qSlicer", "qMRML")


def files_in(layer: str) -> list[Path]:
    return sorted(path for lib in LIBS for path in (lib / layer).rglob("*.py"))


def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def module_name(path: Path) -> str:
    """Dotted name of a Lib file, e.g. ``SegmentEditorAdaptiveBrushLib.core.params``."""
    for lib in LIBS:
        if lib in path.parents:
            parts = path.relative_to(lib.parent).with_suffix("").parts
            return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
    raise ValueError(f"{path} is not in a Lib")


def imported_names(path: Path) -> Iterator[tuple[int, str]]:
    """(line, absolute dotted name) of everything a file imports, relative imports resolved;
    ``from a import b`` yields both ``a`` and ``a.b``."""
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    for node in ast.walk(parse(path)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield node.lineno, base
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"


def is_qt(name: str) -> bool:
    parts = name.split(".")
    return parts[0] in QT_ROOTS or any(p.startswith(QT_CLASS_PREFIXES) for p in parts)


def slicer_qt_attributes(path: Path) -> Iterator[tuple[int, str]]:
    """``slicer.qSlicer...`` / ``slicer.qMRML...`` used without an import."""
    for node in ast.walk(parse(path)):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "slicer"
            and node.attr.startswith(QT_CLASS_PREFIXES)
        ):
            yield node.lineno, f"slicer.{node.attr}"


def layer_of(name: str) -> str | None:
    parts = name.split(".")
    if parts[0].endswith("Lib") and len(parts) > 1 and parts[1] in ("core", "scene", "gui"):
        return parts[1]
    return None


# --- the checker itself --------------------------------------------------------------------


def test_imported_names_resolves_relative_imports(tmp_path):
    lib = LIBS[0]
    sample = lib / "scene" / "effect_logic.py"
    names = {name for _, name in imported_names(sample)}
    assert "SegmentEditorAdaptiveBrushLib.core.params.PARAMETERS" in names
    assert "SegmentEditorAdaptiveBrushLib.scene.context" in names
    assert is_qt("slicer.qSlicerSegmentEditorEffectFactory") and is_qt("ctk")
    assert not is_qt("slicer.vtkSlicerSegmentEditorLogic")
    assert layer_of("SegmentEditorAdaptiveBrushLib.gui.panel_layout") == "gui"


# --- compiling -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", GUI_FILES, ids=lambda p: p.name)
def test_gui_file_compiles(path):
    source = path.read_text(encoding="utf-8")
    compile(source, str(path), "exec", dont_inherit=True)


# --- layering ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", files_in("core"), ids=lambda p: module_name(p))
def test_core_imports_neither_slicer_vtk_nor_qt(path):
    bad = [
        (line, name)
        for line, name in imported_names(path)
        if name.split(".")[0] in ("slicer", "vtk", "vtkmodules") or is_qt(name)
    ]
    bad += list(slicer_qt_attributes(path))
    assert not bad, f"{module_name(path)} is core: no slicer, vtk or qt ({bad})"


@pytest.mark.parametrize("path", files_in("core"), ids=lambda p: module_name(p))
def test_core_imports_nothing_from_layers_above(path):
    bad = [(n, x) for n, x in imported_names(path) if layer_of(x) in ("scene", "gui")]
    assert not bad, f"{module_name(path)} is core: it may not import scene or gui ({bad})"


@pytest.mark.parametrize("path", files_in("scene"), ids=lambda p: module_name(p))
def test_scene_imports_no_qt(path):
    bad = [(line, name) for line, name in imported_names(path) if is_qt(name)]
    bad += list(slicer_qt_attributes(path))
    assert not bad, f"{module_name(path)} is scene: no qt, ctk or qSlicer*/qMRML* ({bad})"


@pytest.mark.parametrize("path", files_in("scene"), ids=lambda p: module_name(p))
def test_scene_imports_nothing_from_the_gui(path):
    bad = [(n, x) for n, x in imported_names(path) if layer_of(x) == "gui"]
    assert not bad, f"{module_name(path)} is scene: it may not import the gui ({bad})"


@pytest.mark.parametrize("path", PURE_GUI_FILES, ids=lambda p: p.name)
def test_pure_gui_helpers_need_neither_qt_nor_slicer(path):
    # They are unit-tested headless; a Qt or slicer import would make that impossible.
    roots = {name.split(".")[0] for _, name in imported_names(path)}
    assert not roots & {"qt", "ctk", "slicer", "vtk"}, roots


# --- what Slicer expects of the GUI files ----------------------------------------------------


def class_names(path: Path) -> set[str]:
    return {node.name for node in ast.walk(parse(path)) if isinstance(node, ast.ClassDef)}


def test_effect_file_defines_the_class_slicer_looks_up_and_imports_absolutely():
    # setPythonSource takes the class name from the file name and may run the file by path,
    # outside its package, where relative imports fail.
    assert "SegmentEditorEffect" in class_names(EFFECT_FILE)
    relative = [n.lineno for n in ast.walk(parse(EFFECT_FILE)) if getattr(n, "level", 0)]
    assert not relative, f"relative imports at lines {relative}"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (GUI_FILES[0], {"SegmentEditorAdaptiveBrush", "SegmentEditorAdaptiveBrushTest"}),
        (
            GUI_FILES[1],
            {
                "SegmentEditorAdaptiveBrushTester",
                "SegmentEditorAdaptiveBrushTesterLogic",
                "SegmentEditorAdaptiveBrushTesterWidget",
                "SegmentEditorAdaptiveBrushTesterTest",
            },
        ),
    ],
    ids=lambda value: getattr(value, "name", ""),
)
def test_module_files_define_the_classes_slicer_expects(path, expected):
    assert expected <= class_names(path)


@pytest.mark.parametrize("path", GUI_FILES[:2], ids=lambda p: p.name)
def test_run_test_runs_every_self_test(path):
    # Reload & Test calls runTest(); a test method it does not list would never run there.
    for cls in (n for n in ast.walk(parse(path)) if isinstance(n, ast.ClassDef)):
        methods = {f.name: f for f in cls.body if isinstance(f, ast.FunctionDef)}
        if "runTest" not in methods:
            continue
        called = {n.attr for n in ast.walk(methods["runTest"]) if isinstance(n, ast.Attribute)}
        tests = {name for name in methods if name.startswith("test_")}
        assert tests, f"{cls.name} has no test_ methods"
        assert tests <= called, f"{cls.name}.runTest misses {sorted(tests - called)}"


# --- the one GUI piece that runs without Qt: the outline's VTK pipeline ----------------------


def test_brush_outline_draws_the_circle_and_the_trail():
    import numpy as np
    from SegmentEditorAdaptiveBrushLib.gui.outline import CIRCLE_SIDES, BrushOutline
    from vtk.util.numpy_support import vtk_to_numpy

    outline = BrushOutline()
    outline.place((100.0, 50.0), 20.0)
    outline.set_trail([(0.0, 0.0), (10.0, 0.0), (10.0, 10.0)])
    outline.append.Update()
    points = vtk_to_numpy(outline.append.GetOutput().GetPoints().GetData())
    circle, trail = points[:CIRCLE_SIDES], points[CIRCLE_SIDES:]
    assert np.allclose(np.hypot(circle[:, 0] - 100.0, circle[:, 1] - 50.0), 20.0)
    assert trail[:, :2].tolist() == [[0.0, 0.0], [10.0, 0.0], [10.0, 10.0]]
    assert outline.actor.GetVisibility()
    outline.place((0.0, 0.0), 0.0)  # unknown scale: nothing to draw
    assert not outline.actor.GetVisibility()
    outline.set_trail([])
    outline.append.Update()
    assert outline.append.GetOutput().GetNumberOfPoints() == CIRCLE_SIDES
