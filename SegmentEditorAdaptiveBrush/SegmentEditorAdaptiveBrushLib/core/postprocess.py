"""Post-processing of a brush result: closing, hole filling, the seed's component."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import SimpleITK as sitk

from .algorithms.sitk_util import to_sitk


def postprocess(
    mask: np.ndarray, seed: tuple[int, int, int], spacing: tuple[float, float, float],
    params: Mapping[str, Any],
) -> np.ndarray:
    """Apply closing, hole filling and seed-component selection as the parameters ask.

    Returns a new bool (k, j, i) mask; the input is not modified.
    """
    result = mask.astype(bool, copy=True)
    if not result.any():
        return result
    if params["closing_radius_mm"] > 0:
        result = _close(result, spacing, params["closing_radius_mm"])
    if params["fill_holes"]:
        result = _fill_holes(result)
    if params["keep_seed_component"] and result[seed]:
        result = _component_at(result, seed)
    return result


def _close(mask: np.ndarray, spacing: tuple[float, float, float], radius_mm: float) -> np.ndarray:
    radius_xyz = [max(int(round(radius_mm / d)), 0) for d in spacing[::-1]]
    if not any(radius_xyz):
        return mask
    image = to_sitk(mask.astype(np.uint8), spacing)
    closed = sitk.BinaryMorphologicalClosing(image, radius_xyz, sitk.sitkBall)
    return sitk.GetArrayFromImage(closed).astype(bool)


def _fill_holes(mask: np.ndarray) -> np.ndarray:
    filled = sitk.BinaryFillhole(sitk.GetImageFromArray(mask.astype(np.uint8)), fullyConnected=False)
    return sitk.GetArrayFromImage(filled).astype(bool)


def _component_at(mask: np.ndarray, seed: tuple[int, int, int]) -> np.ndarray:
    labels = sitk.GetArrayFromImage(
        sitk.ConnectedComponent(sitk.GetImageFromArray(mask.astype(np.uint8)), True)
    )
    return labels == labels[seed]
