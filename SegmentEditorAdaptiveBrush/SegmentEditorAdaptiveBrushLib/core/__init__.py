"""Pure brush core: numpy, SimpleITK and scikit-image only (no slicer, vtk or qt)."""
