"""Connected threshold: voxels connected to the seed whose intensity is in the sampled range."""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

from .base import Algorithm, BrushInput
from .sitk_util import to_sitk


def connected_threshold(inp: BrushInput) -> np.ndarray:
    """Flood from the seed over voxels with ``stats.low <= intensity <= stats.high``.

    Edge sensitivity acts through the sampled range (see ``sampling.py``). Returns a bool
    (k, j, i) mask of the ROI.
    """
    image = to_sitk(inp.image, inp.spacing)
    seed_xyz = (int(inp.seed[2]), int(inp.seed[1]), int(inp.seed[0]))
    region = sitk.ConnectedThreshold(
        image, seedList=[seed_xyz], lower=float(inp.stats.low), upper=float(inp.stats.high)
    )
    return sitk.GetArrayViewFromImage(region).astype(bool)


ALGORITHM = Algorithm(
    name="connected_threshold",
    label="Connected threshold",
    run=connected_threshold,
)
