"""Parameter changes fire the event Slicer's effect panels listen to."""

from __future__ import annotations

import slicer

from .helpers import make_edit_scene


def test_setting_parameters_fires_effect_parameter_modified(clean_scene):
    edit = make_edit_scene(clean_scene)
    try:
        fired = []
        event = slicer.vtkMRMLSegmentEditorNode.EffectParameterModified
        edit.editor.AddObserver(event, lambda *_: fired.append(1))
        edit.logic.set_parameters({"brush_radius_mm": 9.0})
        assert fired == [1]
        assert edit.logic.parameters["brush_radius_mm"] == 9.0
    finally:
        edit.remove(clean_scene.scene)
