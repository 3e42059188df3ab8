"""Recipes, checkpoints, metrics and reports: pure Python (numpy, SimpleITK); no slicer/vtk/qt."""
