"""Volume geometry and voxel access on MRML nodes, without copies where possible."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import slicer
import vtk
from vtk.util import numpy_support

from .errors import GeometryMismatchError, SceneError

GEOMETRY_TOLERANCE_MM = 1e-4


def matrix_to_numpy(matrix: vtk.vtkMatrix4x4) -> np.ndarray:
    """4x4 numpy copy of a vtkMatrix4x4."""
    return np.array([[matrix.GetElement(r, c) for c in range(4)] for r in range(4)])


def numpy_to_matrix(array: np.ndarray) -> vtk.vtkMatrix4x4:
    """vtkMatrix4x4 from a 4x4 numpy array."""
    matrix = vtk.vtkMatrix4x4()
    for r in range(4):
        for c in range(4):
            matrix.SetElement(r, c, float(array[r, c]))
    return matrix


def ijk_to_ras(volume_node: Any) -> np.ndarray:
    """The volume's IJKToRAS as a 4x4 numpy array (mm).

    Raises
    ------
    SceneError
        If the volume sits under a transform: brush voxels would not line up with RAS.
    """
    if volume_node.GetParentTransformNode() is not None:
        raise SceneError(
            f"volume '{volume_node.GetName()}' is under a transform; harden the transform "
            "(Data module: right-click > Harden transform) before using the Adaptive Brush"
        )
    matrix = vtk.vtkMatrix4x4()
    volume_node.GetIJKToRASMatrix(matrix)
    return matrix_to_numpy(matrix)


def volume_array(volume_node: Any) -> np.ndarray:
    """A (k, j, i) numpy view of a scalar volume's voxels (no copy)."""
    image = volume_node.GetImageData()
    if image is None or image.GetPointData().GetScalars() is None:
        raise SceneError(f"volume '{volume_node.GetName()}' has no image data")
    if image.GetNumberOfScalarComponents() != 1:
        raise SceneError(f"volume '{volume_node.GetName()}' is not a single-component volume")
    dims = image.GetDimensions()
    scalars = numpy_support.vtk_to_numpy(image.GetPointData().GetScalars())
    return scalars.reshape(dims[2], dims[1], dims[0])


def volume_shape(volume_node: Any) -> tuple[int, int, int]:
    """(k, j, i) shape of a volume."""
    dims = volume_node.GetImageData().GetDimensions()
    return (int(dims[2]), int(dims[1]), int(dims[0]))


def oriented_image(
    mask: np.ndarray, start_kji: Sequence[int], ijk_to_ras_matrix: np.ndarray
) -> Any:
    """A vtkOrientedImageData covering only a box of the volume grid, from a bool mask.

    ``mask`` is (k, j, i) over the box starting at ``start_kji``; the image's extent is the
    box's sub-extent of the volume's IJK and its image-to-world matrix the IJKToRAS.
    """
    k0, j0, i0 = (int(v) for v in start_kji)
    nk, nj, ni = mask.shape
    image = slicer.vtkOrientedImageData()
    image.SetExtent(i0, i0 + ni - 1, j0, j0 + nj - 1, k0, k0 + nk - 1)
    image.SetImageToWorldMatrix(numpy_to_matrix(ijk_to_ras_matrix))
    scalars = numpy_support.numpy_to_vtk(
        np.ascontiguousarray(mask, dtype=np.uint8).ravel(),
        deep=True,
        array_type=vtk.VTK_UNSIGNED_CHAR,
    )
    image.GetPointData().SetScalars(scalars)
    return image


def image_to_world(image: Any) -> np.ndarray:
    """Image-to-world matrix of a vtkOrientedImageData as numpy."""
    matrix = vtk.vtkMatrix4x4()
    image.GetImageToWorldMatrix(matrix)
    return matrix_to_numpy(matrix)


def check_same_grid(image: Any, ijk_to_ras_matrix: np.ndarray, what: str) -> None:
    """Raise GeometryMismatchError unless ``image`` lies on the volume's voxel grid."""
    difference = np.abs(image_to_world(image) - ijk_to_ras_matrix)
    if float(difference.max()) > GEOMETRY_TOLERANCE_MM:
        raise GeometryMismatchError(
            f"{what} does not share the source volume's voxel grid (its image-to-world "
            "matrix differs); set the segmentation geometry from the source volume"
        )
