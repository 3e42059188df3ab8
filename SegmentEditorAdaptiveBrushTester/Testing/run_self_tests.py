r"""Run the Adaptive Brush self-tests inside desktop Slicer and exit with their result.

Usage, from the repository root::

    Slicer --no-main-window \
        --python-script SegmentEditorAdaptiveBrushTester/Testing/run_self_tests.py

The script loads the two modules from this source tree when Slicer has not loaded them
(no need to add them to the module paths first), installs the Python packages the tests
need into Slicer's Python when they are missing (set ADAPTIVE_BRUSH_NO_INSTALL=1 to fail
instead), runs ``SegmentEditorAdaptiveBrushTest`` and ``SegmentEditorAdaptiveBrushTesterTest``
and exits Slicer with status 0 when every test passed, 1 otherwise.
"""

import os
import sys
import traceback
import unittest

import slicer

HERE = os.path.dirname(os.path.abspath(__file__))
REPOSITORY = os.path.dirname(os.path.dirname(HERE))
MODULES = ("SegmentEditorAdaptiveBrush", "SegmentEditorAdaptiveBrushTester")


def modulePath(name):
    return os.path.join(REPOSITORY, name, f"{name}.py")


def loadModules():
    """Load the modules from this tree unless Slicer already has them (installed or on the
    module paths); the brush module first, since the Tester depends on it."""
    import qt

    factory = slicer.app.moduleManager().factoryManager()
    for name in MODULES:
        folder = os.path.dirname(modulePath(name))
        if folder not in sys.path:
            sys.path.append(folder)
        if name in factory.loadedModuleNames():
            continue
        factory.registerModule(qt.QFileInfo(modulePath(name)))
        if not factory.loadModules([name]):
            raise RuntimeError(f"Slicer could not load the {name} module from {folder}")


def selfTestSuite():
    import SegmentEditorAdaptiveBrush
    import SegmentEditorAdaptiveBrushTester

    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    suite.addTests(
        loader.loadTestsFromTestCase(SegmentEditorAdaptiveBrush.SegmentEditorAdaptiveBrushTest)
    )
    suite.addTests(
        loader.loadTestsFromTestCase(
            SegmentEditorAdaptiveBrushTester.SegmentEditorAdaptiveBrushTesterTest
        )
    )
    return suite


def main():
    loadModules()
    import SegmentEditorAdaptiveBrushTester

    if os.environ.get("ADAPTIVE_BRUSH_NO_INSTALL") != "1":
        SegmentEditorAdaptiveBrushTester.ensureRequirements(ask=False)
    result = unittest.TextTestRunner(stream=sys.stderr, verbosity=2).run(selfTestSuite())
    return 0 if result.wasSuccessful() else 1


def runAndExit():
    status = 1
    try:
        status = main()
    except Exception:
        traceback.print_exc()
    finally:
        slicer.util.exit(status)


runAndExit()
