"""scikit-image is optional: without it the brush loads and only the random walker fails,
with a message that says how to install it."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from SegmentEditorAdaptiveBrushLib.core.brush import compute_brush
from SegmentEditorAdaptiveBrushLib.core.errors import AlgorithmError
from SegmentEditorAdaptiveBrushLib.core.params import BrushParameters


def test_loading_the_brush_does_not_import_scikit_image():
    code = (
        "import sys, SegmentEditorAdaptiveBrushLib.core.brush, "
        "SegmentEditorAdaptiveBrushLib.core.params; "
        "print(any(m.startswith('skimage') for m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_random_walker_without_scikit_image_names_the_fix(monkeypatch):
    monkeypatch.setitem(sys.modules, "skimage.segmentation", None)
    volume = np.zeros((20, 20, 20), dtype=np.int16)
    volume[5:15, 5:15, 5:15] = 100
    matrix = np.eye(4)
    params = BrushParameters({"algorithm": "random_walker", "brush_radius_mm": 6.0})
    with pytest.raises(AlgorithmError, match=r'pip_install\("scikit-image"\)'):
        compute_brush(volume, matrix, (10.0, 10.0, 10.0), params)
    other = BrushParameters({"algorithm": "connected_threshold", "brush_radius_mm": 6.0})
    assert compute_brush(volume, matrix, (10.0, 10.0, 10.0), other).mask.sum() > 100
