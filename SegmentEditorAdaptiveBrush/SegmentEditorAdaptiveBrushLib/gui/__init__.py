"""GUI layer of the Adaptive Brush: the Segment Editor effect.

``SegmentEditorEffect`` needs Qt, so it runs only inside desktop Slicer; ``outline`` needs
only VTK. ``panel_layout`` and ``stroke_input`` are pure Python: they hold the decisions the
effect's widgets and mouse handlers act on, so they are tested headless. This file imports
nothing on purpose, so those modules import without Qt.
"""
