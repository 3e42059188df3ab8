"""Scene layer: slicer + vtk (MRML, Segmentations logic), never qt."""
