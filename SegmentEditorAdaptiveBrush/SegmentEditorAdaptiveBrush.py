"""Hidden module that registers the Adaptive Brush effect with the Segment Editor.

The effect itself is ``SegmentEditorAdaptiveBrushLib/gui/SegmentEditorEffect.py``; its
logic lives in ``SegmentEditorAdaptiveBrushLib/scene`` and ``core`` and is importable
without Qt. The self-test ``SegmentEditorAdaptiveBrushTest`` drives the real effect in a
Segment Editor widget on a synthetic volume (no download needed).
"""

import logging

import slicer
from slicer.ScriptedLoadableModule import ScriptedLoadableModule, ScriptedLoadableModuleTest

logger = logging.getLogger(__name__)

HELP_TEXT = """This hidden module adds the <b>Adaptive Brush</b> effect to the Segment Editor:
a brush that segments by image content (it grows into the structure under the cursor and
stops at edges). Select it in the Segment Editor's effect list."""

ACKNOWLEDGEMENT_TEXT = """Built on 3D Slicer's Segment Editor, SimpleITK and scikit-image."""


def registerEffect():
    """Register the effect with the Segment Editor once; True when it is registered now.

    Safe to call again (the factory keeps one effect per name), which the self-tests and
    the test runner script rely on.
    """
    from SegmentEditorAdaptiveBrushLib.gui.SegmentEditorEffect import createScriptedEffect
    from SegmentEditorAdaptiveBrushLib.scene.effect_logic import EFFECT_NAME

    factory = slicer.qSlicerSegmentEditorEffectFactory.instance()
    if EFFECT_NAME in [effect.name for effect in factory.registeredEffects()]:
        return True
    return bool(factory.registerEffect(createScriptedEffect()))


class SegmentEditorAdaptiveBrush(ScriptedLoadableModule):
    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = "Segment Editor Adaptive Brush"
        self.parent.categories = ["Segmentation"]
        self.parent.dependencies = ["Segmentations"]
        self.parent.contributors = ["Adaptive Brush developers"]
        self.parent.hidden = True
        self.parent.helpText = HELP_TEXT
        self.parent.acknowledgementText = ACKNOWLEDGEMENT_TEXT
        # Effects must be registered once the Segmentations module is ready.
        slicer.app.connect("startupCompleted()", self.onStartupCompleted)

    def onStartupCompleted(self):
        # A failure here must not break Slicer's start-up: log what to do instead.
        try:
            registerEffect()
        except ImportError as error:
            logger.error(
                "The Adaptive Brush effect could not be loaded: %s. Install the missing "
                "package in Slicer's Python console, e.g. "
                "slicer.util.pip_install('scikit-image'), then restart Slicer.",
                error,
            )
        except Exception:
            logger.exception("The Adaptive Brush effect could not be registered")


class SegmentEditorAdaptiveBrushTest(ScriptedLoadableModuleTest):
    """Drives the effect's panel and mouse handlers in a real Segment Editor widget.

    The volume is synthetic (a bright ball in a dark box, 1 mm voxels, IJK = RAS), so the
    expected result is known without a reference and nothing is downloaded.
    """

    BALL_CENTER = (24.0, 24.0, 24.0)
    BALL_RADIUS = 10.0

    def setUp(self):
        slicer.mrmlScene.Clear(0)
        self.assertTrue(registerEffect(), "the Adaptive Brush effect is not registered")
        self.volume = self._ballVolume()
        self.segmentation = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLSegmentationNode")
        self.segmentation.CreateDefaultDisplayNodes()
        self.segmentation.SetReferenceImageGeometryParameterFromVolumeNode(self.volume)
        self.segmentId = self.segmentation.GetSegmentation().AddEmptySegment("ball", "ball")
        self.editor, self.editorNode = self._editorWidget()
        self.sliceWidget = self._sliceWidget()
        self.editor.setActiveEffectByName("Adaptive Brush")
        self.effect = self.editor.activeEffect().self()

    def tearDown(self):
        self.editor.setActiveEffect(None)
        self.editor.deleteLater()
        standalone = getattr(self, "standaloneSliceWidget", None)
        if standalone is not None:
            standalone.deleteLater()
        slicer.mrmlScene.Clear(0)

    def runTest(self):
        for test in (
            self.test_EffectIsRegisteredAndActivates,
            self.test_PanelWritesAndShowsNodeParameters,
            self.test_ClickPaintsInsideTheBallOnly,
            self.test_DragIsOneStrokeAndOneUndoState,
            self.test_ControlErases,
            self.test_Brush2DPaintsOneSliceAndRecordsThePlane,
        ):
            self.setUp()
            try:
                test()
            finally:
                self.tearDown()

    # Tests --------------------------------------------------------------------------------

    def test_EffectIsRegisteredAndActivates(self):
        factory = slicer.qSlicerSegmentEditorEffectFactory.instance()
        self.assertIn("Adaptive Brush", [e.name for e in factory.registeredEffects()])
        self.assertEqual(self.editor.activeEffect().name, "Adaptive Brush")
        self.assertEqual(self.effect.parameterWidgetValue("brush_radius_mm"), 5.0)

    def test_PanelWritesAndShowsNodeParameters(self):
        logic = self.effect.logic()
        self.effect.setParameterWidgetValue("brush_radius_mm", 12.5)
        self.effect.setParameterWidgetValue("algorithm", "watershed")
        self.assertEqual(logic.parameters["brush_radius_mm"], 12.5)
        self.assertEqual(logic.parameters["algorithm"], "watershed")
        # Node -> panel: as the stepping runner and scripts change parameters.
        logic.set_parameters({"edge_sensitivity": 70.0, "algorithm": "connected_threshold"})
        self.assertEqual(self.effect.parameterWidgetValue("edge_sensitivity"), 70.0)
        self.assertEqual(self.effect.parameterWidgetValue("algorithm"), "connected_threshold")
        self.assertFalse(self.effect._sectionWidgets["watershed"].visible)

    def test_ClickPaintsInsideTheBallOnly(self):
        self._useConnectedThreshold(8.0)
        self._drag([self.BALL_CENTER])
        painted = self._segmentArray()
        self.assertGreater(painted.sum(), 100)
        self.assertLessEqual(self._farthestPaintedMm(painted), self.BALL_RADIUS + 1.0)

    def test_DragIsOneStrokeAndOneUndoState(self):
        self._useConnectedThreshold(4.0)
        self._drag([self.BALL_CENTER])
        afterClick = self._segmentArray()
        cx, cy, cz = self.BALL_CENTER
        self._drag([(cx - 5.0, cy, cz), (cx, cy, cz), (cx + 5.0, cy, cz)])
        self.assertGreaterEqual(self.effect.lastStrokePointCount, 3)
        self.assertGreater(self._segmentArray().sum(), afterClick.sum())
        self.editor.undo()
        self.assertTrue((self._segmentArray() == afterClick).all())

    def test_ControlErases(self):
        self._useConnectedThreshold(8.0)
        self._drag([self.BALL_CENTER])
        before = int(self._segmentArray().sum())
        self._drag([self.BALL_CENTER], control=True)
        self.assertLess(int(self._segmentArray().sum()), before)

    def test_Brush2DPaintsOneSliceAndRecordsThePlane(self):
        self._useConnectedThreshold(8.0)
        self.effect.setParameterWidgetValue("brush_mode", "2d")
        self._drag([self.BALL_CENTER])
        painted = self._segmentArray()
        self.assertGreater(painted.sum(), 10)
        self.assertEqual(len(set(painted.nonzero()[0])), 1)  # one axial (k) slice
        parameters = self.effect.logic().parameters
        self.assertEqual(parameters["slice_orientation"], "axial")
        self.assertIsNone(parameters["slice_normal"])

    # Helpers ------------------------------------------------------------------------------

    def _ballVolume(self):
        import numpy as np

        k, j, i = np.mgrid[0:48, 0:48, 0:48]
        distance = np.sqrt((i - 24.0) ** 2 + (j - 24.0) ** 2 + (k - 24.0) ** 2)
        voxels = np.where(distance <= self.BALL_RADIUS, 200, 0).astype(np.int16)
        volume = slicer.util.addVolumeFromArray(voxels, name="AdaptiveBrushTestBall")
        volume.SetOrigin(0.0, 0.0, 0.0)
        volume.SetSpacing(1.0, 1.0, 1.0)
        volume.SetIJKToRASDirections(1, 0, 0, 0, 1, 0, 0, 0, 1)
        return volume

    def _editorWidget(self):
        editor = slicer.qMRMLSegmentEditorWidget()
        editor.setMaximumNumberOfUndoStates(10)
        editor.setMRMLScene(slicer.mrmlScene)
        node = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLSegmentEditorNode")
        editor.setMRMLSegmentEditorNode(node)
        editor.setSegmentationNode(self.segmentation)
        editor.setSourceVolumeNode(self.volume)
        node.SetSelectedSegmentID(self.segmentId)
        editor.show()
        return editor, node

    def _sliceWidget(self):
        """The Red slice view, or a stand-alone one when Slicer runs without a main window."""
        self.standaloneSliceWidget = None
        layoutManager = slicer.app.layoutManager()
        if layoutManager is not None:
            sliceWidget = layoutManager.sliceWidget("Red")
        else:
            sliceWidget = slicer.qMRMLSliceWidget()
            sliceWidget.setMRMLScene(slicer.mrmlScene)
            sliceNode = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLSliceNode")
            sliceNode.SetLayoutName("AdaptiveBrushTest")
            sliceNode.SetOrientationToAxial()
            sliceWidget.setMRMLSliceNode(sliceNode)
            sliceWidget.resize(400, 400)
            sliceWidget.show()
            self.standaloneSliceWidget = sliceWidget
        sliceWidget.mrmlSliceNode().SetOrientationToAxial()
        compositeNode = sliceWidget.sliceLogic().GetSliceCompositeNode()
        compositeNode.SetBackgroundVolumeID(self.volume.GetID())
        sliceWidget.sliceLogic().FitSliceToAll()
        slicer.app.processEvents()
        return sliceWidget

    def _useConnectedThreshold(self, radiusMm):
        self.effect.setParameterWidgetValue("algorithm", "connected_threshold")
        self.effect.setParameterWidgetValue("brush_radius_mm", radiusMm)

    def _drag(self, rasPoints, control=False):
        """Press at the first point, move through the others, release at the last."""
        sliceNode = self.sliceWidget.mrmlSliceNode()
        sliceNode.JumpSliceByOffsetting(*rasPoints[0])
        slicer.app.processEvents()
        interactor = self.sliceWidget.sliceView().interactor()
        interactor.SetControlKey(1 if control else 0)
        interactor.SetShiftKey(0)
        interactor.SetAltKey(0)
        events = ["LeftButtonPressEvent"] + ["MouseMoveEvent"] * (len(rasPoints) - 1)
        try:
            for ras, event in zip(rasPoints, events, strict=True):
                self._send(interactor, event, ras)
            self._send(interactor, "LeftButtonReleaseEvent", rasPoints[-1])
        finally:
            interactor.SetControlKey(0)

    def _send(self, interactor, eventName, ras):
        import vtk

        xy = self.effect.rasToXy(ras, self.sliceWidget)
        interactor.SetEventPosition(int(round(xy[0])), int(round(xy[1])))
        eventId = getattr(vtk.vtkCommand, eventName)
        self.effect.processInteractionEvents(interactor, eventId, self.sliceWidget)

    def _segmentArray(self):
        array = slicer.util.arrayFromSegmentBinaryLabelmap(
            self.segmentation, self.segmentId, self.volume
        )
        return array != 0

    def _farthestPaintedMm(self, painted):
        import numpy as np

        k, j, i = np.nonzero(painted)
        cx, cy, cz = self.BALL_CENTER
        return float(np.sqrt((i - cx) ** 2 + (j - cy) ** 2 + (k - cz) ** 2).max())
