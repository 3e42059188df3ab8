"""Load the real test cases in tests/data as the brush core sees a Slicer volume.

Files are NRRD in LPS. Slicer works in RAS, so the IJKToRAS matrix is the file's IJK-to-LPS
matrix with its first two rows negated; arrays are (k, j, i) as Slicer hands them out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import SimpleITK as sitk

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
CASE_NAMES = ("lung1", "breast1", "brain1", "brain2")


@dataclass(frozen=True)
class RealCase:
    """One image with its reference label and a seed inside the labelled structure.

    Attributes
    ----------
    name : str
        Case name (``lung1``, ``breast1``, ``brain1``, ``brain2``).
    image : ndarray, shape (k, j, i)
        Intensities as stored (int16).
    ijk_to_ras : ndarray, shape (4, 4)
        Maps (i, j, k, 1) to (R, A, S, 1) in mm.
    label : ndarray of bool, shape (k, j, i)
        Reference segmentation.
    seed_ras : tuple of float
        A point deep inside the labelled structure (mm, RAS).
    """

    name: str
    image: np.ndarray
    ijk_to_ras: np.ndarray
    label: np.ndarray
    seed_ras: tuple[float, float, float]


def ijk_to_ras_matrix(image: sitk.Image) -> np.ndarray:
    """4x4 IJKToRAS of a SimpleITK image (whose physical space is LPS)."""
    direction = np.asarray(image.GetDirection(), dtype=np.float64).reshape(3, 3)
    spacing = np.asarray(image.GetSpacing(), dtype=np.float64)
    matrix = np.eye(4)
    matrix[:3, :3] = direction * spacing[None, :]
    matrix[:3, 3] = image.GetOrigin()
    matrix[:2, :] *= -1.0  # LPS -> RAS: negate the L and P rows
    return matrix


def case_entries() -> dict[str, dict[str, Any]]:
    """The entries of tests/data/cases.json by name."""
    entries = json.loads((DATA_DIR / "cases.json").read_text(encoding="utf-8"))
    return {entry["name"]: entry for entry in entries}


def load_case(name: str) -> RealCase:
    """Read one case from tests/data; raises KeyError for an unknown name."""
    entry = case_entries()[name]
    image = sitk.ReadImage(str(DATA_DIR / entry["image"]))
    label = sitk.ReadImage(str(DATA_DIR / entry["label"]))
    seed = [float(v) for v in entry["seed_ras"]]
    return RealCase(
        name=name,
        image=sitk.GetArrayFromImage(image),
        ijk_to_ras=ijk_to_ras_matrix(image),
        label=sitk.GetArrayFromImage(label) == int(entry["label_value"]),
        seed_ras=(seed[0], seed[1], seed[2]),
    )
