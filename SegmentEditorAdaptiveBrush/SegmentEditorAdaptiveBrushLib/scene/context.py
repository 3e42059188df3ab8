"""The one place that knows whether we run in desktop Slicer or headless on slicer-core.

Desktop Slicer provides ``slicer.mrmlScene`` and ``slicer.modules``. The ``slicer-core``
wheel has neither: there we build a scene, an application logic and the module logics the
Segmentations code needs, once per process, and everything else uses the same objects.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import slicer
import vtk

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SlicerContext:
    """Scene and logics the scene layer works with.

    Attributes
    ----------
    scene : vtkMRMLScene
    app_logic : vtkSlicerApplicationLogic (or desktop's application logic)
    segmentations_logic : vtkSlicerSegmentationsModuleLogic
    headless : bool
        True on the slicer-core wheel (no Qt, no ``slicer.app``).
    """

    scene: Any
    app_logic: Any
    segmentations_logic: Any
    headless: bool


_HEADLESS: SlicerContext | None = None


def is_desktop_slicer() -> bool:
    """True inside the desktop application (``slicer.app`` exists)."""
    return hasattr(slicer, "app") and hasattr(slicer, "mrmlScene")


def slicer_context() -> SlicerContext:
    """The desktop application's scene and logics, or the process's headless ones."""
    if is_desktop_slicer():
        return SlicerContext(
            scene=slicer.mrmlScene,
            app_logic=slicer.app.applicationLogic(),
            segmentations_logic=slicer.modules.segmentations.logic(),
            headless=False,
        )
    global _HEADLESS
    if _HEADLESS is None:
        _HEADLESS = _create_headless_context()
    return _HEADLESS


def _create_headless_context() -> SlicerContext:
    scene = slicer.vtkMRMLScene()
    app_logic = slicer.vtkSlicerApplicationLogic()
    app_logic.SetMRMLScene(scene)
    logics: dict[str, Any] = {}
    # Headless there is no Slicer home folder to find colour files in; the colour logic
    # says so on stderr at every start although its built-in tables load. Keep it quiet.
    verbosity = vtk.vtkLogger.GetCurrentVerbosityCutoff()
    vtk.vtkLogger.SetStderrVerbosity(vtk.vtkLogger.VERBOSITY_OFF)
    try:
        _register_logics(scene, app_logic, logics)
    finally:
        vtk.vtkLogger.SetStderrVerbosity(verbosity)
    logger.info("Created a headless MRML scene (slicer-core, no Qt)")
    return SlicerContext(scene, app_logic, logics["Segmentations"], headless=True)


def _register_logics(scene: Any, app_logic: Any, logics: dict[str, Any]) -> None:
    for name, cls in (
        ("Colors", slicer.vtkSlicerColorLogic),
        ("Volumes", slicer.vtkSlicerVolumesLogic),
        ("Segmentations", slicer.vtkSlicerSegmentationsModuleLogic),
    ):
        logic = cls()
        logic.SetMRMLApplicationLogic(app_logic)
        logic.SetMRMLScene(scene)
        app_logic.SetModuleLogic(name, logic)
        logics[name] = logic
