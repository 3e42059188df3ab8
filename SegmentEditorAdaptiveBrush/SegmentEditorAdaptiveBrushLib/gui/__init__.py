"""GUI layer of the Adaptive Brush: the Segment Editor effect (Qt, desktop Slicer only).

``SegmentEditorEffect`` and ``outline`` need Qt/VTK inside desktop Slicer. ``panel_layout``
and ``stroke_input`` are pure Python: they hold the decisions the effect's widgets and mouse
handlers act on, so they are tested headless. This file imports nothing on purpose, so the
pure modules import without Qt.
"""
