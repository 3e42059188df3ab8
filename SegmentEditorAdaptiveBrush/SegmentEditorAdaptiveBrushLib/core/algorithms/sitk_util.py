"""Conversions between (k, j, i) numpy ROIs and SimpleITK images."""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk


def to_sitk(array: np.ndarray, spacing_kji: tuple[float, float, float]) -> sitk.Image:
    """Wrap a (k, j, i) array as a SimpleITK image with spacing in mm (x, y, z = i, j, k)."""
    image = sitk.GetImageFromArray(np.ascontiguousarray(array))
    image.SetSpacing((float(spacing_kji[2]), float(spacing_kji[1]), float(spacing_kji[0])))
    return image
