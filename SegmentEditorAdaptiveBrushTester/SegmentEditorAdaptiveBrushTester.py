"""Tester module: load a recipe, step through it, rewind, branch by hand, save and export.

The panel is a thin layer over ``SteppingRecipeRunner`` (scene layer); which button is
enabled when, the slider range and the label texts come from ``core/gui_state.py`` (pure,
tested headless). The runner uses the Segment Editor module's editor node, so the Adaptive
Brush panel in the Segment Editor shows the runner's parameters, and strokes painted by
hand in the slice views become branch steps.

Library imports happen inside functions: the Lib needs packages that Slicer does not ship
(see ``REQUIREMENTS``), and the panel must still open to offer installing them.
"""

import contextlib
import importlib.util
import logging
import os
import shutil
import tempfile

import qt
import slicer
from slicer.ScriptedLoadableModule import (
    ScriptedLoadableModule,
    ScriptedLoadableModuleLogic,
    ScriptedLoadableModuleTest,
    ScriptedLoadableModuleWidget,
)
from slicer.util import VTKObservationMixin

logger = logging.getLogger(__name__)

EFFECT_NAME = "Adaptive Brush"
DEFAULT_SHIPPED_RECIPE = "right_lung.json"

# Python packages the Lib imports that Slicer does not ship: import name -> pip requirement.
# Checked here, before anything from the Lib is imported, because importing it needs them.
REQUIREMENTS = {"slicerio": "slicerio", "skimage": "scikit-image"}

HELP_TEXT = """Replays an Adaptive Brush <b>recipe</b> step by step against the scene.
<ul>
<li><b>Set up</b> loads the recipe's image, creates the segmentation and activates the
Adaptive Brush in the Segment Editor.</li>
<li><b>|&lt; &lt; &gt; &gt;|</b> and the step slider move through the recipe; going back
restores the segmentation and the brush parameters exactly.</li>
<li><b>Start branch</b>, or simply painting with the Adaptive Brush, continues by hand from
the current step; <b>Save branch</b> writes the result as a new recipe.</li>
<li><b>Export Python script</b> writes a script that replays the recipe (or the branch) in
the Python console.</li>
</ul>"""


def recipesFolder():
    """Folder of the shipped recipes (next to this file, in the build tree and installed)."""
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(here, "SegmentEditorAdaptiveBrushTesterLib", "Recipes")


def missingRequirements():
    """pip requirements of the packages in ``REQUIREMENTS`` that cannot be imported."""
    return [pip for name, pip in REQUIREMENTS.items() if importlib.util.find_spec(name) is None]


def ensureRequirements(ask=True):
    """Install missing packages with pip (after asking), then register the effect.

    Raises RuntimeError when the user declines, so callers stop cleanly.
    """
    missing = missingRequirements()
    if missing:
        question = (
            "The Adaptive Brush needs these Python packages, which Slicer does not ship: "
            f"{', '.join(missing)}.\n\nInstall them now with pip?"
        )
        if ask and not slicer.util.confirmOkCancelDisplay(question):
            raise RuntimeError(f"missing Python packages: {', '.join(missing)}")
        slicer.util.pip_install(missing)
        importlib.invalidate_caches()
    import SegmentEditorAdaptiveBrush

    SegmentEditorAdaptiveBrush.registerEffect()


def segmentEditorModuleWidget():
    """The Segment Editor module's widget, with its singleton editor node selected."""
    widget = slicer.util.getModuleWidget("SegmentEditor")
    widget.selectParameterNode()
    return widget


class SegmentEditorAdaptiveBrushTester(ScriptedLoadableModule):
    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = "Adaptive Brush Tester"
        self.parent.categories = ["Segmentation"]
        self.parent.dependencies = ["Segmentations", "SegmentEditor", "SegmentEditorAdaptiveBrush"]
        self.parent.contributors = ["Adaptive Brush developers"]
        self.parent.helpText = HELP_TEXT
        self.parent.acknowledgementText = "Built on 3D Slicer's Segment Editor."


class SegmentEditorAdaptiveBrushTesterLogic(ScriptedLoadableModuleLogic):
    """Holds the loaded recipe and the runner; knows nothing about widgets."""

    def __init__(self):
        ScriptedLoadableModuleLogic.__init__(self)
        self.recipe = None
        self.recipePath = None
        self.runner = None
        self.stepCallback = None

    def loadRecipe(self, path):
        """Load and validate ``path``; the current runner is cleaned up only if it loads."""
        from SegmentEditorAdaptiveBrushTesterLib import ActionRecipe

        recipe = ActionRecipe.load(path)
        self.cleanup()
        self.recipe, self.recipePath = recipe, path
        logger.info("Loaded recipe '%s' (%d steps) from %s", recipe.name, len(recipe), path)
        return recipe

    def setup(self):
        """Set up the runner on the Segment Editor's node and activate the effect."""
        from SegmentEditorAdaptiveBrushTesterLib import SteppingRecipeRunner

        if self.recipe is None:
            raise RuntimeError("load a recipe first")
        self.cleanup()
        editorNode = segmentEditorModuleWidget().editor.mrmlSegmentEditorNode()
        runner = SteppingRecipeRunner(self.recipe, editor_node=editorNode)
        runner.set_step_callback(self._onStep)
        runner.setup()
        self.runner = runner
        self.activateEffect()
        self._showVolume(runner.volume_node)

    def activateEffect(self):
        """Make the Adaptive Brush the Segment Editor's active effect (it paints in the views
        even while this panel is shown)."""
        import SegmentEditorAdaptiveBrush

        SegmentEditorAdaptiveBrush.registerEffect()
        segmentEditorModuleWidget().editor.setActiveEffectByName(EFFECT_NAME)

    def _showVolume(self, volumeNode):
        fit = slicer.app.layoutManager() is not None
        slicer.util.setSliceViewerLayers(background=volumeNode, fit=fit)

    def _onStep(self, stepIndex, action):
        if self.stepCallback is not None:
            self.stepCallback()

    def isSetUp(self):
        return self.runner is not None and self.runner.is_set_up()

    def state(self, busy=False):
        from SegmentEditorAdaptiveBrushTesterLib.core.gui_state import RunnerState

        runner = self.runner
        if runner is None:
            steps = len(self.recipe.actions) if self.recipe is not None else 0
            return RunnerState(self.recipe is not None, False, -1, steps, busy=busy)
        return RunnerState(
            recipe_loaded=True,
            set_up=True,
            current_step=runner.current_step,
            total_steps=runner.total_steps(),
            branching=runner.is_branching(),
            branch_available=runner.has_branch(),
            busy=busy,
        )

    def requireRunner(self):
        if self.runner is None:
            raise RuntimeError("press Set up first")
        return self.runner

    def startBranch(self):
        self.requireRunner().start_branch()

    def saveBranch(self, path):
        """Write the branch as a recipe named after the file; returns the recipe."""
        from SegmentEditorAdaptiveBrushTesterLib.core.gui_state import recipe_name_for_file

        branch = self.requireRunner().save_branch(recipe_name_for_file(path))
        branch.save(path)
        return branch

    def exportRecipe(self):
        """The recipe "Export Python script" writes: the branch once there is one."""
        from SegmentEditorAdaptiveBrushTesterLib.core.gui_state import export_source

        if export_source(self.state()) == "branch":
            return self.requireRunner().save_branch()
        if self.recipe is None:
            raise RuntimeError("load a recipe first")
        return self.recipe

    def exportScript(self, path):
        from SegmentEditorAdaptiveBrushTesterLib.core.script_export import export_python_script

        text = export_python_script(self.exportRecipe())
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        logger.info("Exported a replay script to %s", path)

    def cleanup(self):
        """Remove what set-up created (nodes, checkpoints, the stroke recording)."""
        runner, self.runner = self.runner, None
        if runner is not None:
            runner.set_step_callback(None)
            runner.cleanup()


class SegmentEditorAdaptiveBrushTesterWidget(ScriptedLoadableModuleWidget, VTKObservationMixin):
    def __init__(self, parent=None):
        ScriptedLoadableModuleWidget.__init__(self, parent)
        VTKObservationMixin.__init__(self)
        self.logic = SegmentEditorAdaptiveBrushTesterLogic()
        self.lastError = ""
        self._busy = False
        self.buttons = {}
        self._lastFolder = qt.QDir.homePath()

    # Layout ---------------------------------------------------------------------------------

    def setup(self):
        ScriptedLoadableModuleWidget.setup(self)
        self.logic.stepCallback = self.refresh
        self._buildRequirementsArea()
        self.mainArea = qt.QWidget()
        mainLayout = qt.QVBoxLayout(self.mainArea)
        mainLayout.setContentsMargins(0, 0, 0, 0)
        mainLayout.addWidget(self._buildRecipeSection())
        mainLayout.addWidget(self._buildStepSection())
        mainLayout.addWidget(self._buildBranchSection())
        self.layout.addWidget(self.mainArea)
        self.layout.addStretch(1)
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.StartCloseEvent, self.onSceneStartClose)
        self.updateRequirementsArea()

    def _button(self, name, text, handler, toolTip):
        button = qt.QPushButton(text)
        button.toolTip = toolTip
        button.objectName = f"AdaptiveBrushTester_{name}"
        button.connect("clicked()", handler)
        self.buttons[name] = button
        return button

    def _buildRequirementsArea(self):
        self.requirementsArea = qt.QWidget()
        layout = qt.QVBoxLayout(self.requirementsArea)
        self.requirementsLabel = qt.QLabel()
        self.requirementsLabel.wordWrap = True
        layout.addWidget(self.requirementsLabel)
        installButton = qt.QPushButton("Install required Python packages")
        installButton.connect("clicked()", self.onInstallRequirements)
        layout.addWidget(installButton)
        self.layout.addWidget(self.requirementsArea)

    def _buildRecipeSection(self):
        import ctk

        section = ctk.ctkCollapsibleButton()
        section.text = "Recipe"
        form = qt.QFormLayout(section)
        self.shippedCombo = qt.QComboBox()
        self.shippedCombo.toolTip = "Recipes shipped with the extension."
        loadShipped = self._button(
            "loadShipped", "Load", self.onLoadShipped, "Load the selected shipped recipe."
        )
        row = qt.QHBoxLayout()
        row.addWidget(self.shippedCombo, 1)
        row.addWidget(loadShipped)
        form.addRow("Shipped:", row)
        form.addRow(
            self._button(
                "loadRecipe", "Load recipe file\u2026", self.onLoadRecipe, "Load a recipe JSON."
            )
        )
        self.recipeLabel = qt.QLabel()
        self.recipeLabel.wordWrap = True
        form.addRow(self.recipeLabel)
        return section

    def _buildStepSection(self):
        import ctk

        section = ctk.ctkCollapsibleButton()
        section.text = "Steps"
        form = qt.QFormLayout(section)
        row = qt.QHBoxLayout()
        for name, text, handler, tip in (
            ("setup", "Set up", self.onSetup, "Load the image, create the segment, set up."),
            ("cleanup", "Clean up", self.onCleanup, "Remove what Set up created."),
        ):
            row.addWidget(self._button(name, text, handler, tip))
        form.addRow(row)
        form.addRow(self._navigationRow())
        form.addRow("Go to step:", self._gotoRow())
        self.stepLabel = qt.QLabel()
        self.stepLabel.wordWrap = True
        form.addRow(self.stepLabel)
        self.statsLabel = qt.QLabel()
        self.statsLabel.wordWrap = True
        self.statsLabel.toolTip = "Memory held by the checkpoints against full per-step copies."
        form.addRow("Checkpoints:", self.statsLabel)
        return section

    def _navigationRow(self):
        row = qt.QHBoxLayout()
        for name, text, handler, tip in (
            ("gotoStart", "|<", self.onGotoStart, "Back to the initial state (step -1)."),
            ("stepBackward", "<", self.onStepBackward, "One step back."),
            ("stepForward", ">", self.onStepForward, "Run the next step."),
            ("runToEnd", ">|", self.onRunToEnd, "Run every remaining step."),
        ):
            row.addWidget(self._button(name, text, handler, tip))
        return row

    def _gotoRow(self):
        self.stepSlider = qt.QSlider(qt.Qt.Horizontal)
        self.stepSlider.tracking = False  # go to a step on release, not at every tick
        self.stepSpinBox = qt.QSpinBox()
        self.stepSpinBox.keyboardTracking = False
        self.stepSpinBox.toolTip = "-1 is the initial state, 0 the first step."
        self.stepSlider.connect("valueChanged(int)", self.onGotoRequested)
        self.stepSpinBox.connect("valueChanged(int)", self.onGotoRequested)
        container = qt.QWidget()
        row = qt.QHBoxLayout(container)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.stepSlider, 1)
        row.addWidget(self.stepSpinBox)
        self.buttons["gotoStep"] = container
        return container

    def _buildBranchSection(self):
        import ctk

        section = ctk.ctkCollapsibleButton()
        section.text = "Branch and export"
        form = qt.QFormLayout(section)
        row = qt.QHBoxLayout()
        for name, text, handler, tip in (
            ("startBranch", "Start branch", self.onStartBranch, "Continue by hand from here."),
            ("stopBranch", "Stop branch", self.onStopBranch, "Back to the branch point."),
            ("saveBranch", "Save branch\u2026", self.onSaveBranch, "Write it as a recipe."),
        ):
            row.addWidget(self._button(name, text, handler, tip))
        form.addRow(row)
        hint = qt.QLabel(
            "Strokes painted with the Adaptive Brush while set up are recorded as branch steps."
        )
        hint.wordWrap = True
        form.addRow(hint)
        form.addRow(self._button("exportScript", "Export Python script\u2026", self.onExport, ""))
        showEffect = qt.QPushButton("Show Adaptive Brush options")
        showEffect.toolTip = "Open the Segment Editor, where the effect's parameters are shown."
        showEffect.connect("clicked()", self.onShowEffect)
        form.addRow(showEffect)
        return section

    # State ----------------------------------------------------------------------------------

    def updateRequirementsArea(self):
        missing = missingRequirements()
        self.requirementsArea.visible = bool(missing)
        self.mainArea.enabled = not missing
        if missing:
            self.requirementsLabel.text = (
                f"The Adaptive Brush needs Python packages that Slicer does not ship: "
                f"{', '.join(missing)}."
            )
            return
        self._fillShippedCombo()
        self.refresh()

    def _fillShippedCombo(self):
        from SegmentEditorAdaptiveBrushTesterLib.core.gui_state import shipped_recipes

        self.shippedCombo.clear()
        for label, path in shipped_recipes(recipesFolder()):
            self.shippedCombo.addItem(label, path)
        default = os.path.join(recipesFolder(), DEFAULT_SHIPPED_RECIPE)
        self.shippedCombo.currentIndex = max(self.shippedCombo.findData(default), 0)

    def refresh(self):
        """Copy the runner's state onto the widgets."""
        if missingRequirements():
            return
        from SegmentEditorAdaptiveBrushTesterLib.core import gui_state

        state = self.logic.state(busy=self._busy)
        for name, enabled in gui_state.enabled_buttons(state).items():
            self.buttons[name].enabled = enabled
        self._refreshGoto(state)
        self.stepLabel.text = gui_state.step_text(state, self._currentLabel(state))
        runner = self.logic.runner
        stats = runner.get_checkpoint_stats() if runner is not None else {}
        self.statsLabel.text = gui_state.stats_text(stats)
        self.recipeLabel.text = self._recipeText()
        source = gui_state.export_source(state)
        self.buttons["exportScript"].text = f"Export {source} as Python script\u2026"

    def _refreshGoto(self, state):
        from SegmentEditorAdaptiveBrushTesterLib.core.gui_state import goto_range

        low, high = goto_range(state)
        for widget in (self.stepSlider, self.stepSpinBox):
            wasBlocked = widget.blockSignals(True)
            widget.setRange(low, high)
            widget.value = state.current_step
            widget.blockSignals(wasBlocked)

    def _currentLabel(self, state):
        runner = self.logic.runner
        if runner is None or state.current_step < 0:
            return None
        try:
            return runner.step_label(state.current_step)
        except Exception:
            logger.exception("No label for step %d", state.current_step)
            return None

    def _recipeText(self):
        recipe = self.logic.recipe
        if recipe is None:
            return "No recipe loaded."
        text = f"<b>{recipe.name}</b>: {len(recipe)} steps on '{recipe.sample_data}'"
        return f"{text}<br>{recipe.description}" if recipe.description else text

    def _recipeName(self):
        return self.logic.recipe.name if self.logic.recipe is not None else "recipe"

    def _run(self, what, action):
        """Run one runner call: buttons off, wait cursor, errors shown; True on success."""
        self._busy = True
        self.refresh()
        qt.QApplication.setOverrideCursor(qt.Qt.WaitCursor)
        try:
            action()
            self.lastError = ""
            return True
        except Exception as error:
            logger.exception("%s failed", what)
            self.lastError = f"{what} failed: {error}"
            slicer.util.errorDisplay(f"{what} failed:\n\n{error}")
            return False
        finally:
            qt.QApplication.restoreOverrideCursor()
            self._busy = False
            self.refresh()

    # Handlers -------------------------------------------------------------------------------

    def _runner(self):
        return self.logic.requireRunner()

    def onInstallRequirements(self):
        self._run("Installing Python packages", lambda: ensureRequirements(ask=False))
        self.updateRequirementsArea()

    def onLoadShipped(self):
        path = self.shippedCombo.currentData
        return bool(path) and self.loadRecipeFile(path)

    def onLoadRecipe(self):
        path = qt.QFileDialog.getOpenFileName(
            self.parent, "Load recipe", self._lastFolder, "Recipes (*.json);;All files (*)"
        )
        return bool(path) and self.loadRecipeFile(path)

    def loadRecipeFile(self, path):
        self._lastFolder = os.path.dirname(path)
        return self._run(f"Loading {os.path.basename(path)}", lambda: self.logic.loadRecipe(path))

    def onSetup(self):
        return self._run("Setting up the recipe", self.logic.setup)

    def onCleanup(self):
        return self._run("Cleaning up", self.logic.cleanup)

    def onGotoStart(self):
        return self._run("Going to the initial state", lambda: self._runner().goto_step(-1))

    def onStepBackward(self):
        return self._run("Stepping back", lambda: self._runner().step_backward())

    def onStepForward(self):
        return self._run("Stepping forward", lambda: self._runner().step_forward())

    def onRunToEnd(self):
        return self._run("Running to the end", lambda: self._runner().run_to_end())

    def onGotoRequested(self, stepIndex):
        runner = self.logic.runner
        if runner is None or stepIndex == runner.current_step:
            return True
        return self._run(f"Going to step {stepIndex}", lambda: runner.goto_step(stepIndex))

    def onStartBranch(self):
        return self._run("Starting a branch", self.logic.startBranch)

    def onStopBranch(self):
        return self._run("Stopping the branch", lambda: self._runner().stop_branch())

    def onSaveBranch(self):
        from SegmentEditorAdaptiveBrushTesterLib.core.gui_state import default_branch_file_name

        name = default_branch_file_name(self._recipeName())
        path = self._askSavePath("Save branch as recipe", name, "Recipes (*.json)")
        return bool(path) and self.saveBranchTo(path)

    def _askSavePath(self, title, fileName, fileFilter):
        """The path the user picked in a save dialog starting in the last folder, or ''."""
        suggested = os.path.join(self._lastFolder, fileName)
        return qt.QFileDialog.getSaveFileName(self.parent, title, suggested, fileFilter)

    def saveBranchTo(self, path):
        self._lastFolder = os.path.dirname(path)
        return self._run("Saving the branch", lambda: self.logic.saveBranch(path))

    def onExport(self):
        from SegmentEditorAdaptiveBrushTesterLib.core.gui_state import default_script_file_name

        name = default_script_file_name(self._recipeName())
        path = self._askSavePath("Export Python script", name, "Python (*.py)")
        return bool(path) and self.exportScriptTo(path)

    def exportScriptTo(self, path):
        self._lastFolder = os.path.dirname(path)
        return self._run("Exporting the script", lambda: self.logic.exportScript(path))

    def onShowEffect(self):
        slicer.util.selectModule("SegmentEditor")
        if self.logic.isSetUp():
            self._run("Activating the Adaptive Brush", self.logic.activateEffect)

    # Module life ----------------------------------------------------------------------------

    def enter(self):
        # Leaving the Segment Editor deactivates its effect; painting goes on from here.
        if self.logic.isSetUp():
            self._run("Activating the Adaptive Brush", self.logic.activateEffect)
        self.refresh()

    def onSceneStartClose(self, caller, event):
        self.logic.cleanup()
        self.refresh()

    def cleanup(self):
        self.removeObservers()
        self.logic.stepCallback = None
        self.logic.cleanup()


class SegmentEditorAdaptiveBrushTesterTest(ScriptedLoadableModuleTest):
    """Drives the Tester panel and logic on the embedded chest CT, as a user would."""

    # Inside the right lung of the embedded chest CT (RAS, mm).
    HAND_STROKE = [(75.0, -20.0, -190.0), (70.0, -10.0, -150.0)]

    def setUp(self):
        slicer.mrmlScene.Clear(0)
        ensureRequirements(ask=False)
        self.widget = self._testerWidget()
        self.logic = self.widget.logic
        self.folder = tempfile.mkdtemp(prefix="AdaptiveBrushTester")
        shipped = os.path.join(recipesFolder(), DEFAULT_SHIPPED_RECIPE)
        self.assertTrue(self.widget.loadRecipeFile(shipped), self.widget.lastError)

    def tearDown(self):
        self.logic.cleanup()
        shutil.rmtree(self.folder, ignore_errors=True)
        slicer.mrmlScene.Clear(0)

    def runTest(self):
        for test in (
            self.test_SetupUsesTheSegmentEditorAndActivatesTheEffect,
            self.test_StepButtonsSliderAndLabels,
            self.test_RewindIsBitExact,
            self.test_HandStrokeBranchSavesAndReplaysExactly,
            self.test_ExportedScriptCompiles,
            self.test_CleanupRemovesWhatSetupCreated,
        ):
            self.setUp()
            try:
                test()
            finally:
                self.tearDown()

    # Tests --------------------------------------------------------------------------------

    def test_SetupUsesTheSegmentEditorAndActivatesTheEffect(self):
        self._setup()
        editor = segmentEditorModuleWidget().editor
        self.assertIs(self.logic.runner.editor_node, editor.mrmlSegmentEditorNode())
        self.assertEqual(editor.activeEffect().name, EFFECT_NAME)
        self.assertIn("Initial state", self.widget.stepLabel.text)
        self.assertFalse(self.widget.buttons["setup"].enabled)
        self.assertTrue(self.widget.buttons["stepForward"].enabled)
        # The effect panel shows the runner's parameters once a step sets them.
        self.widget.buttons["stepForward"].click()
        effect = editor.activeEffect().self()
        algorithm = self.logic.runner.logic.parameters["algorithm"]
        self.assertEqual(effect.parameterWidgetValue("algorithm"), algorithm)

    def test_StepButtonsSliderAndLabels(self):
        runner = self._setup()
        self.assertTrue(self.widget.onStepForward(), self.widget.lastError)
        self.assertTrue(self.widget.onStepForward(), self.widget.lastError)
        self.assertEqual(runner.current_step, 1)
        self.assertIn(runner.step_label(1), self.widget.stepLabel.text)
        self.widget.stepSpinBox.value = 3  # as typed by the user
        self.assertEqual(runner.current_step, 3, self.widget.lastError)
        self.assertTrue(self.widget.onRunToEnd(), self.widget.lastError)
        self.assertTrue(runner.is_at_end())
        self.assertFalse(self.widget.buttons["stepForward"].enabled)
        self.assertTrue(self.widget.onStepBackward(), self.widget.lastError)
        self.assertEqual(runner.current_step, runner.total_steps() - 2)
        self.assertTrue(self.widget.onGotoStart(), self.widget.lastError)
        self.assertFalse(runner.current_segment_array().any())
        self.assertIn("checkpoint", self.widget.statsLabel.text)

    def test_RewindIsBitExact(self):
        runner = self._setup()
        arrays = [runner.current_segment_array()]
        while runner.step_forward():
            arrays.append(runner.current_segment_array())
        self.assertTrue(arrays[-1].any())
        for step in range(runner.total_steps() - 1, -2, -1):
            self.assertTrue(self.widget.onGotoRequested(step), self.widget.lastError)
            same = (runner.current_segment_array() == arrays[step + 1]).all()
            self.assertTrue(same, f"step {step} is not restored exactly")

    def test_HandStrokeBranchSavesAndReplaysExactly(self):
        from SegmentEditorAdaptiveBrushLib.scene.effect_logic import AdaptiveBrushLogic

        runner = self._setup()
        self.assertTrue(self.widget.onGotoRequested(2), self.widget.lastError)
        self.assertTrue(self.widget.onStartBranch(), self.widget.lastError)
        # What the effect does on mouse release, on the Segment Editor's node.
        AdaptiveBrushLogic(runner.editor_node).user_stroke(self.HAND_STROKE, erase=False)
        self.assertTrue(runner.is_branching())
        self.assertEqual(runner.current_step, 3)
        self.assertEqual(len(runner.get_current_action().path), 1)
        self.assertTrue(self.widget.buttons["saveBranch"].enabled)
        expected = runner.current_segment_array()
        path = os.path.join(self.folder, "lung_branch.json")
        self.assertTrue(self.widget.saveBranchTo(path), self.widget.lastError)
        self.assertTrue(self.widget.loadRecipeFile(path), self.widget.lastError)
        self.assertEqual(self.logic.recipe.metadata["branch_step"], 2)
        replay = self._setup()
        replay.run_to_end()
        self.assertTrue((replay.current_segment_array() == expected).all())

    def test_ExportedScriptCompiles(self):
        path = os.path.join(self.folder, "replay.py")
        self.assertTrue(self.widget.exportScriptTo(path), self.widget.lastError)
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        compile(text, path, "exec")
        self.assertIn("SteppingRecipeRunner", text)

    def test_CleanupRemovesWhatSetupCreated(self):
        segmentEditorModuleWidget()  # its editor node is not Set up's to remove
        before = self._sceneNodes()
        self._setup()
        self.assertGreater(len(self._sceneNodes()), len(before))
        self.assertTrue(self.widget.onCleanup(), self.widget.lastError)
        self.assertEqual(self._sceneNodes(), before)  # a difference names the leaked node
        self.assertIsNone(self.logic.runner)
        self.assertTrue(self.widget.buttons["setup"].enabled)

    # Helpers ------------------------------------------------------------------------------

    def _setup(self):
        self.assertTrue(self.widget.onSetup(), self.widget.lastError)
        return self.logic.runner

    def _sceneNodes(self):
        scene = slicer.mrmlScene
        nodes = (scene.GetNthNode(index) for index in range(scene.GetNumberOfNodes()))
        return sorted(f"{node.GetClassName()} {node.GetName()}" for node in nodes)

    def _testerWidget(self):
        """The module's panel when the module is loaded, else a stand-alone one."""
        with contextlib.suppress(AttributeError, RuntimeError):
            widget = slicer.util.getModuleWidget("SegmentEditorAdaptiveBrushTester")
            if widget is not None:
                return widget
        parent = slicer.qMRMLWidget()
        parent.setLayout(qt.QVBoxLayout())
        parent.setMRMLScene(slicer.mrmlScene)
        widget = SegmentEditorAdaptiveBrushTesterWidget(parent)
        widget.setup()
        parent.show()
        return widget
