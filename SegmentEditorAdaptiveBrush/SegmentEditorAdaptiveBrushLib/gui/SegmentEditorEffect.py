"""Adaptive Brush segment editor effect: options panel and mouse handling (Qt layer).

Thin on purpose. Parameters, strokes, masking and undo bookkeeping live in
``AdaptiveBrushLogic`` (scene layer); which widget shows which parameter, and what a mouse
gesture means, are decided in ``panel_layout`` and ``stroke_input`` (pure, tested
headless). This file wires them to Qt and VTK.

Imports are absolute: Slicer's ``setPythonSource`` may execute this file by path, outside
its package, and relative imports would then fail.
"""

import contextlib
import logging
import os
import sys
import time

import ctk
import qt
import slicer
import vtk
from SegmentEditorEffects import AbstractScriptedSegmentEditorEffect

from SegmentEditorAdaptiveBrushLib.core.params import PARAMETERS, PRESET_KEY
from SegmentEditorAdaptiveBrushLib.gui import panel_layout, stroke_input
from SegmentEditorAdaptiveBrushLib.gui.outline import BrushOutline
from SegmentEditorAdaptiveBrushLib.scene.effect_logic import EFFECT_NAME, AdaptiveBrushLogic

logger = logging.getLogger(__name__)

ICON_FILE = "SegmentEditorAdaptiveBrushEffect.png"

HELP_TEXT = """<html>Paint by image content: inside the brush the effect grows into the
structure under the cursor and stops at its edges.<p>
<ul style="margin: 0">
<li><b>Left-click:</b> one brush application at the cursor.</li>
<li><b>Left-drag:</b> one stroke, painted as you drag; one undo step.</li>
<li><b>Ctrl + left-click/drag:</b> the opposite of the selected mode (erase while adding).</li>
<li><b>Esc</b> during a drag: cancel the stroke.</li>
<li><b>Shift + drag:</b> pans the view, as everywhere in Slicer.</li>
</ul><p>
2D brush mode paints a disk in the plane of the slice view you click in (axial, coronal,
sagittal or oblique). Masking settings below are honoured.</html>"""


def createScriptedEffect():
    """A new ``qSlicerSegmentEditorScriptedEffect`` running this file's class.

    Slicer finds the class as an attribute of ``sys.modules[<this file's folder name>]``,
    here the generic name ``gui``, and otherwise executes this file a second time under that
    bare name. Pointing that entry at this module for the duration of the call keeps one
    copy of the class and leaves no module called ``gui`` behind for other extensions to
    collide with.
    """
    import qSlicerSegmentationsEditorEffectsPythonQt as qSlicerSegmentationsEditorEffects

    source = os.path.abspath(__file__).replace("\\", "/")
    lookupName = os.path.basename(os.path.dirname(source))
    previous = sys.modules.get(lookupName)
    sys.modules[lookupName] = sys.modules[__name__]
    try:
        effect = qSlicerSegmentationsEditorEffects.qSlicerSegmentEditorScriptedEffect(None)
        if not effect.setPythonSource(source):
            raise RuntimeError(f"Slicer could not load the Adaptive Brush effect from {source}")
    finally:
        if previous is None:
            sys.modules.pop(lookupName, None)
        else:
            sys.modules[lookupName] = previous
    return effect


def _matrixRows(matrix):
    return [[matrix.GetElement(row, column) for column in range(4)] for row in range(4)]


class _Outcome:
    """Whether a guarded block finished without an error."""

    ok = True


class _Stroke:
    """The drag in progress, in the view it started in: every kept point is painted at once
    (``live`` is the logic's LiveStroke), the whole drag is one undo state."""

    def __init__(self, viewWidget, live, spacingMm):
        self.viewWidget = viewWidget
        self.live = live
        self.points = stroke_input.StrokePoints(spacingMm)
        self.xyTrail = []

    def add(self, ras, xy):
        # A drag that leaves the image goes on; the points outside it are left out.
        kept = self.points.add(ras) and self.live.add_point(ras, skip_outside=True)
        if kept:
            self.xyTrail.append((xy[0], xy[1]))
        return kept


class SegmentEditorEffect(AbstractScriptedSegmentEditorEffect):
    """Adaptive Brush: segments by image content inside the brush."""

    def __init__(self, scriptedEffect):
        scriptedEffect.name = EFFECT_NAME  # effects are found by name: never translate it
        scriptedEffect.title = EFFECT_NAME
        scriptedEffect.perSegment = True
        scriptedEffect.requireSegments = True
        AbstractScriptedSegmentEditorEffect.__init__(self, scriptedEffect)
        self._logic = None
        self._logicNode = None
        self._observedNode = None
        self._observerTag = None
        self._widgets = {}
        self._sectionWidgets = {}
        self._outlines = {}
        self._stroke = None
        self._radiusMm = PARAMETERS["brush_radius_mm"].default
        self._updatingGUI = False
        self.lastStrokePointCount = 0

    def clone(self):
        return createScriptedEffect()

    def icon(self):
        iconPath = os.path.join(
            os.path.dirname(__file__), os.pardir, os.pardir, "Resources", "Icons", ICON_FILE
        )
        return qt.QIcon(iconPath) if os.path.exists(iconPath) else qt.QIcon()

    def helpText(self):
        return HELP_TEXT

    def createCursor(self, widget):
        # A plain cross: the seed is the pixel under its centre.
        return qt.QCursor(qt.Qt.CrossCursor)

    # Logic --------------------------------------------------------------------------------

    def logic(self):
        """The AdaptiveBrushLogic of the current Segment Editor node (recreated if it changes)."""
        node = self.scriptedEffect.parameterSetNode()
        if node is None:
            raise RuntimeError("the Segment Editor has no parameter node yet")
        if self._logic is None or self._logicNode is not node:
            self._logic = AdaptiveBrushLogic(node)
            self._logicNode = node
        return self._logic

    @contextlib.contextmanager
    def _guard(self, what, waitCursor=False):
        """Show what failed instead of raising into Qt; always restore the cursor.

        Yields an outcome whose ``ok`` is False after a failure.
        """
        outcome = _Outcome()
        if waitCursor:
            qt.QApplication.setOverrideCursor(qt.Qt.WaitCursor)
        try:
            yield outcome
        except Exception as error:
            outcome.ok = False
            logger.exception("%s failed", what)
            self._showStatus(f"{what} failed: {error}")
            slicer.util.errorDisplay(f"{what} failed:\n\n{error}")
        finally:
            if waitCursor:
                qt.QApplication.restoreOverrideCursor()

    # Options panel ------------------------------------------------------------------------

    def setupOptionsFrame(self):
        self._addModeButtons()
        self._addPresetCombo()
        for section in panel_layout.panel_sections():
            if section.key == panel_layout.MAIN_SECTION:
                for spec in section.specs:
                    widget = self._createParameterWidget(spec)
                    self.scriptedEffect.addLabeledOptionsWidget(
                        panel_layout.parameter_label(spec), widget
                    )
            else:
                self._addSection(section)
        self.statusLabel = qt.QLabel("")
        self.statusLabel.wordWrap = True
        self.scriptedEffect.addOptionsWidget(self.statusLabel)

    def _addModeButtons(self):
        self.addRadio = qt.QRadioButton("Add")
        self.addRadio.toolTip = "Paint into the selected segment."
        self.eraseRadio = qt.QRadioButton("Erase")
        self.eraseRadio.toolTip = "Remove from the selected segment (Ctrl inverts while held)."
        self.addRadio.checked = True
        self.modeGroup = qt.QButtonGroup()
        self.modeGroup.addButton(self.addRadio)
        self.modeGroup.addButton(self.eraseRadio)
        layout = qt.QHBoxLayout()
        layout.addWidget(self.addRadio)
        layout.addWidget(self.eraseRadio)
        layout.addStretch(1)
        self.scriptedEffect.addLabeledOptionsWidget("Mode:", layout)

    def _addPresetCombo(self):
        self.presetCombo = qt.QComboBox()
        self.presetCombo.addItem(panel_layout.PRESET_PLACEHOLDER, "")
        for name, label in panel_layout.preset_items():
            self.presetCombo.addItem(label, name)
        self.presetCombo.toolTip = "Set several parameters at once for a tissue type."
        self.presetCombo.connect("activated(int)", self._onPresetActivated)
        self.scriptedEffect.addLabeledOptionsWidget("Preset:", self.presetCombo)

    def _addSection(self, section):
        if section.algorithm is None:
            container = ctk.ctkCollapsibleButton()
            container.text = section.title
            container.collapsed = True
        else:
            container = qt.QGroupBox(section.title)
        form = qt.QFormLayout(container)
        for spec in section.specs:
            form.addRow(panel_layout.parameter_label(spec), self._createParameterWidget(spec))
        self._sectionWidgets[section.key] = container
        self.scriptedEffect.addOptionsWidget(container)

    def _createParameterWidget(self, spec):
        kind = panel_layout.widget_kind(spec)
        if kind == "slider":
            widget = self._createSlider(spec)
        elif kind == "checkbox":
            widget = qt.QCheckBox()
            widget.connect("toggled(bool)", lambda value, n=spec.name: self._onEdited(n, value))
        else:
            widget = qt.QComboBox()
            for value, label in panel_layout.choice_items(spec):
                widget.addItem(label, value)
            widget.connect(
                "currentIndexChanged(int)",
                lambda index, w=widget, n=spec.name: self._onEdited(n, w.itemData(index)),
            )
        widget.toolTip = panel_layout.tooltip(spec)
        widget.objectName = f"AdaptiveBrush_{spec.name}"
        self._widgets[spec.name] = widget
        return widget

    def _createSlider(self, spec):
        settings = panel_layout.slider_settings(spec)
        widget = ctk.ctkSliderWidget()
        widget.decimals = settings.decimals
        widget.singleStep = settings.step
        widget.minimum = settings.minimum
        widget.maximum = settings.maximum
        widget.suffix = settings.suffix
        widget.connect(
            "valueChanged(double)",
            lambda raw, s=spec: self._onEdited(s.name, panel_layout.slider_value(s, raw)),
        )
        return widget

    def _onEdited(self, name, value):
        if self._updatingGUI:
            return
        with self._guard(f"Setting {name}") as outcome:
            self.logic().set_parameters({name: value})
        if not outcome.ok:
            self.updateGUIFromMRML()  # show the stored value again

    def _onPresetActivated(self, index):
        name = self.presetCombo.itemData(index)
        if name:
            self.applyPreset(name)

    def applyPreset(self, name):
        """Set the parameters of preset ``name`` (the combo goes back to its placeholder)."""
        with self._guard(f"Applying preset {name}"):
            self.logic().set_parameters({PRESET_KEY: name})
        wasBlocked = self.presetCombo.blockSignals(True)
        self.presetCombo.currentIndex = 0
        self.presetCombo.blockSignals(wasBlocked)

    def setMRMLDefaults(self):
        # Unset parameters read as their ParamSpec defaults; nothing needs writing.
        pass

    def updateMRMLFromGUI(self):
        # Each widget writes its own parameter through the logic as soon as it changes.
        pass

    def updateGUIFromMRML(self):
        node = self.scriptedEffect.parameterSetNode()
        if node is None or not self._widgets:
            return
        self._observe(node)
        with self._guard("Reading the Adaptive Brush parameters"):
            parameters = self.logic().parameters
            self._updatingGUI = True
            try:
                for name, widget in self._widgets.items():
                    self._setWidgetValue(widget, parameters[name])
                self._showSections(parameters["algorithm"])
            finally:
                self._updatingGUI = False
            self._radiusMm = parameters["brush_radius_mm"]

    def _setWidgetValue(self, widget, value):
        wasBlocked = widget.blockSignals(True)
        try:
            if isinstance(widget, qt.QCheckBox):
                widget.checked = bool(value)
            elif isinstance(widget, qt.QComboBox):
                widget.currentIndex = widget.findData(value)
            else:
                widget.value = value
        finally:
            widget.blockSignals(wasBlocked)

    def _showSections(self, algorithm):
        visible = panel_layout.visible_sections(algorithm)
        for key, container in self._sectionWidgets.items():
            container.visible = key in visible

    def parameterWidgetValue(self, name):
        """What the panel shows for parameter ``name`` (used by the self-tests)."""
        widget = self._widgets[name]
        if isinstance(widget, qt.QCheckBox):
            return widget.checked
        if isinstance(widget, qt.QComboBox):
            return widget.itemData(widget.currentIndex)
        return panel_layout.slider_value(PARAMETERS[name], widget.value)

    def setParameterWidgetValue(self, name, value):
        """Change a widget as a user would (its signal fires; used by the self-tests)."""
        widget = self._widgets[name]
        if isinstance(widget, qt.QCheckBox):
            widget.checked = bool(value)
        elif isinstance(widget, qt.QComboBox):
            widget.currentIndex = widget.findData(value)
        else:
            widget.value = value

    def _showStatus(self, text):
        if hasattr(self, "statusLabel"):
            self.statusLabel.text = text

    # Editor node observation ----------------------------------------------------------------

    def _observe(self, node):
        """Refresh the panel whenever the node changes: the stepping runner and scripts set
        parameters as node attributes, which Slicer does not announce to effects."""
        if node is self._observedNode:
            return
        self._unobserve()
        self._observerTag = node.AddObserver(vtk.vtkCommand.ModifiedEvent, self._onNodeModified)
        self._observedNode = node

    def _unobserve(self):
        if self._observedNode is not None and self._observerTag is not None:
            self._observedNode.RemoveObserver(self._observerTag)
        self._observedNode = None
        self._observerTag = None

    def _onNodeModified(self, caller, event):
        if not self._updatingGUI:
            self.updateGUIFromMRML()

    # Activation -----------------------------------------------------------------------------

    def activate(self):
        self.updateGUIFromMRML()

    def deactivate(self):
        self._stroke = None
        for viewWidget, outline in self._outlines.items():
            self.scriptedEffect.removeActor2D(viewWidget, outline.actor)
        self._outlines = {}
        self._unobserve()

    def cleanup(self):
        self.deactivate()

    # Mouse ----------------------------------------------------------------------------------

    def processInteractionEvents(self, callerInteractor, eventId, viewWidget):
        if viewWidget.className() != "qMRMLSliceWidget":
            return False  # painting needs a slice plane to pick the seed in
        if eventId == vtk.vtkCommand.LeftButtonPressEvent:
            return self._onLeftButtonPress(callerInteractor, viewWidget)
        if eventId == vtk.vtkCommand.MouseMoveEvent:
            return self._onMouseMove(callerInteractor, viewWidget)
        if eventId == vtk.vtkCommand.LeftButtonReleaseEvent:
            return self._onLeftButtonRelease(callerInteractor, viewWidget)
        if eventId == vtk.vtkCommand.KeyPressEvent:
            return self._onKeyPress(callerInteractor)
        if eventId == vtk.vtkCommand.LeaveEvent:
            self._outline(viewWidget).hide()
            viewWidget.sliceView().scheduleRender()
        return False

    def _onLeftButtonPress(self, interactor, viewWidget):
        if interactor.GetShiftKey() or interactor.GetAltKey():
            return False  # Shift+drag pans the view everywhere in Slicer; keep it that way
        confirmed = self.scriptedEffect.confirmCurrentSegmentVisible()
        if confirmed != self.scriptedEffect.ConfirmedWithoutDialog:
            # A dialog took the button release, or the user declined: click again.
            return True
        xy = interactor.GetEventPosition()
        with self._guard("Starting a stroke", waitCursor=True) as outcome:
            self._stroke = self._newStroke(interactor, viewWidget)
            self._stroke.add(self.xyToRas(xy, viewWidget), xy)
        if not outcome.ok:
            self._cancelStroke()
        return True

    def _newStroke(self, interactor, viewWidget):
        parameters = self.logic().parameters
        erase = stroke_input.stroke_erases(self.eraseRadio.checked, interactor.GetControlKey())
        planeUpdates = {}
        if parameters["brush_mode"] == "2d":
            sliceToRas = self.scriptedEffect.viewNode(viewWidget).GetSliceToRAS()
            planeUpdates = stroke_input.slice_plane_updates(_matrixRows(sliceToRas))
        spacing = stroke_input.stroke_spacing_mm(parameters["brush_radius_mm"])
        logic = self.logic()
        if planeUpdates:
            logic.set_parameters(planeUpdates)
        live = logic.begin_stroke(erase, self.scriptedEffect.saveStateForUndo)
        return _Stroke(viewWidget, live, spacing)

    def _onMouseMove(self, interactor, viewWidget):
        xy = interactor.GetEventPosition()
        outline = self._outline(viewWidget)
        outline.place(xy, self._radiusPixels(viewWidget))
        viewWidget.sliceView().scheduleRender()
        stroke = self._stroke
        if stroke is None or stroke.viewWidget != viewWidget:
            return False  # let the view use the move (crosshair, window/level...)
        with self._guard("Adaptive Brush stroke") as outcome:
            if stroke.add(self.xyToRas(xy, viewWidget), xy):
                outline.set_trail(stroke.xyTrail)
        if not outcome.ok:
            self._cancelStroke()
        return True

    def _onLeftButtonRelease(self, interactor, viewWidget):
        stroke, self._stroke = self._stroke, None
        if stroke is None:
            return False
        self._outline(stroke.viewWidget).set_trail([])
        started = time.perf_counter()
        with self._guard("Adaptive Brush stroke", waitCursor=True) as outcome:
            if stroke.viewWidget == viewWidget:
                xy = interactor.GetEventPosition()
                stroke.add(self.xyToRas(xy, viewWidget), xy)
            stroke.live.finish()
        if not outcome.ok:
            stroke.live.cancel()
            return True
        self.lastStrokePointCount = len(stroke.live.points)
        verb = "Erased" if stroke.live.erase else "Painted"
        seconds = time.perf_counter() - started
        self._showStatus(
            f"{verb} a stroke of {self.lastStrokePointCount} point(s), finished in {seconds:.2f} s."
        )
        return True

    def _cancelStroke(self):
        stroke, self._stroke = self._stroke, None
        if stroke is None:
            return
        self._outline(stroke.viewWidget).set_trail([])
        with self._guard("Cancelling the stroke"):
            stroke.live.cancel()

    def _onKeyPress(self, interactor):
        if self._stroke is None or interactor.GetKeySym() != "Escape":
            return False
        self._cancelStroke()
        self._showStatus("Stroke cancelled.")
        return True

    def applyStroke(self, points, erase=False, planeUpdates=None):
        """Apply one stroke as painted by hand: one undo state, recorded by a branching
        stepping runner instead when one owns this editor node."""
        started = time.perf_counter()
        with self._guard("Adaptive Brush stroke", waitCursor=True):
            logic = self.logic()
            if planeUpdates:
                logic.set_parameters(planeUpdates)
            logic.user_stroke(points, erase, self.scriptedEffect.saveStateForUndo)
            self.lastStrokePointCount = len(points)
            seconds = time.perf_counter() - started
            verb = "Erased" if erase else "Painted"
            self._showStatus(f"{verb} a stroke of {len(points)} point(s) in {seconds:.2f} s.")

    # Outline ----------------------------------------------------------------------------------

    def _outline(self, viewWidget):
        outline = self._outlines.get(viewWidget)
        if outline is None:
            outline = BrushOutline()
            self.scriptedEffect.addActor2D(viewWidget, outline.actor)
            self._outlines[viewWidget] = outline
        return outline

    def _radiusPixels(self, viewWidget):
        xyToRas = _matrixRows(self.scriptedEffect.viewNode(viewWidget).GetXYToRAS())
        pixelMm = stroke_input.mm_per_pixel(xyToRas)
        return stroke_input.radius_in_pixels(self._radiusMm, pixelMm)
