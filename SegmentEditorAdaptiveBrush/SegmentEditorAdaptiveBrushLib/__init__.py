"""Adaptive Brush: segment by image content inside the brush.

Layers (imports go down only):

- ``core``: pure numpy / SimpleITK / scikit-image; no slicer, vtk or qt.
- ``scene``: slicer + vtk (MRML, Segmentations logic); no qt. Runs in desktop Slicer and
  headless on the ``slicer-core`` wheel.
- ``gui``: qt and ``slicer.qSlicer*``; only inside desktop Slicer.
"""
