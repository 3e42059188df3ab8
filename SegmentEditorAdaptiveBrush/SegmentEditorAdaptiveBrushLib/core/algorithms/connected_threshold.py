"""Connected threshold: voxels connected to the seed whose intensity is in the sampled range.

Edge sensitivity acts only through the sampled range, which it narrows (``sampling.py``).
"""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

from .base import Algorithm, BrushInput
from .workgrid import make_work_grid

# A flood costs little per voxel; coarsening only pays off beyond a 25 mm brush's box.
MAX_VOXELS = 400_000


def connected_threshold(inp: BrushInput) -> np.ndarray:
    """Flood from the seed over voxels with ``stats.low <= intensity <= stats.high``.

    Parameters
    ----------
    inp : BrushInput
        ROI (k, j, i), seed, spacing (mm), brush and sampled statistics.

    Returns
    -------
    ndarray of bool, shape (k, j, i)
        Selected voxels of the ROI (not yet clipped to the brush).
    """
    grid = make_work_grid(inp, MAX_VOXELS)
    low, high = float(inp.stats.low), float(inp.stats.high)
    image = grid.image
    if not low <= float(image[grid.seed]) <= high:
        # The user pointed at this voxel; a noisy seed outside its own range must not
        # return an empty brush, so flood as if it were in range.
        image = image.copy()
        image[grid.seed] = np.float32(np.clip(image[grid.seed], low, high))
    region = sitk.ConnectedThreshold(
        grid.to_sitk(image), seedList=[grid.seed_xyz], lower=low, upper=high
    )
    return grid.expand(sitk.GetArrayViewFromImage(region) > 0)


ALGORITHM = Algorithm(
    name="connected_threshold",
    label="Connected threshold",
    run=connected_threshold,
)
