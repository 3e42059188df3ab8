"""Brush outline in a slice view: a circle of the brush radius at the cursor, and the trail
of the points a drag has collected so far (display coordinates, pixels).

One instance per slice view; the effect adds its actor with ``addActor2D``.
"""

from __future__ import annotations

import vtk

OUTLINE_COLOR = (1.0, 0.85, 0.2)
CIRCLE_SIDES = 48


class BrushOutline:
    """A 2D actor with the brush circle and the stroke trail of one slice view."""

    def __init__(self) -> None:
        self.circle = vtk.vtkRegularPolygonSource()
        self.circle.SetNumberOfSides(CIRCLE_SIDES)
        self.circle.GeneratePolygonOff()
        self.trail = vtk.vtkPolyData()
        self.append = vtk.vtkAppendPolyData()
        self.append.AddInputConnection(self.circle.GetOutputPort())
        self.append.AddInputData(self.trail)
        mapper = vtk.vtkPolyDataMapper2D()
        mapper.SetInputConnection(self.append.GetOutputPort())
        self.actor = vtk.vtkActor2D()
        self.actor.SetMapper(mapper)
        self.actor.GetProperty().SetColor(*OUTLINE_COLOR)
        self.actor.GetProperty().SetLineWidth(1)
        self.actor.VisibilityOff()

    def place(self, xy: tuple[float, float], radius_pixels: float) -> None:
        """Centre the circle on the cursor; hidden when the radius is unknown."""
        self.circle.SetCenter(float(xy[0]), float(xy[1]), 0.0)
        self.circle.SetRadius(max(float(radius_pixels), 0.0))
        self.actor.SetVisibility(radius_pixels > 0)

    def set_trail(self, xy_points: list[tuple[float, float]]) -> None:
        """Show the drag so far as a polyline; an empty list clears it."""
        points = vtk.vtkPoints()
        lines = vtk.vtkCellArray()
        if len(xy_points) > 1:
            lines.InsertNextCell(len(xy_points))
            for index, (x, y) in enumerate(xy_points):
                points.InsertNextPoint(float(x), float(y), 0.0)
                lines.InsertCellPoint(index)
        self.trail.SetPoints(points)
        self.trail.SetLines(lines)
        self.trail.Modified()

    def hide(self) -> None:
        self.actor.VisibilityOff()
