"""Accuracy of one brush stroke on the real test cases: adaptive brush vs plain paint.

For every case in tests/data and every algorithm, one stroke is applied at the case's seed
with a radius that covers the labelled lesion (the distance from the seed to the farthest
voxel of the label part that holds it, rounded up to a millimetre; only brain1's label has
a second part). The Dice coefficient of the result
against the label is printed next to the Dice of the plain sphere of the same radius (the
brush mask itself), as a Markdown table for docs/algorithms.md. Parameters are the defaults
except where ``CASE_PARAMETERS`` says otherwise.

Run from the repository root:  python benchmarks/accuracy.py [--algorithms a,b] [--time]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import SimpleITK as sitk

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from SegmentEditorAdaptiveBrushLib.core.algorithms import ALGORITHMS  # noqa: E402
from SegmentEditorAdaptiveBrushLib.core.brush import BrushResult, compute_brush  # noqa: E402
from SegmentEditorAdaptiveBrushLib.core.geometry import ras_to_ijk  # noqa: E402
from SegmentEditorAdaptiveBrushLib.core.params import BrushParameters  # noqa: E402

from tests.core.realdata import CASE_NAMES, RealCase, load_case  # noqa: E402

# Parameters a user would set for a case, beyond the algorithm and radius. brain1's lesion
# is thin (its deepest voxel is 9 mm inside) for the 33 mm sphere that covers it, so the
# default zone (half the radius) samples mostly brain; a quarter of the radius samples
# the lesion.
CASE_PARAMETERS: dict[str, dict[str, object]] = {"brain1": {"threshold_zone": 25.0}}


@dataclass(frozen=True)
class Score:
    """Dice of the adaptive stroke and of the plain sphere, and the stroke's time (ms)."""

    adaptive: float
    plain: float
    milliseconds: float


def dice(a: np.ndarray, b: np.ndarray) -> float:
    """Dice coefficient of two bool arrays of one shape (1.0 when both are empty)."""
    total = int(a.sum()) + int(b.sum())
    return 1.0 if total == 0 else 2.0 * int(np.logical_and(a, b).sum()) / total


def seed_component(case: RealCase) -> np.ndarray:
    """The 26-connected part of the label that holds the seed (brain1's label has two)."""
    seed_kji = tuple(int(v) for v in np.rint(ras_to_ijk(case.ijk_to_ras, case.seed_ras))[::-1])
    image = sitk.ConnectedComponent(sitk.GetImageFromArray(case.label.astype(np.uint8)), True)
    parts = sitk.GetArrayFromImage(image)
    return np.asarray(parts == parts[seed_kji])


def covering_radius(case: RealCase) -> float:
    """Distance (mm) from the seed to the farthest voxel centre of its label part, rounded up."""
    k, j, i = np.nonzero(seed_component(case))
    points = np.stack([i, j, k, np.ones_like(i)]).astype(np.float64)
    ras = (case.ijk_to_ras @ points)[:3].T
    return float(math.ceil(np.linalg.norm(ras - np.asarray(case.seed_ras), axis=1).max()))


def in_volume(result: BrushResult, mask: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """A ROI mask of ``result`` placed in a volume-sized bool array."""
    full = np.zeros(shape, dtype=bool)
    full[result.region.slices] = mask
    return full


def score(case: RealCase, algorithm: str, radius_mm: float) -> Score:
    """One stroke of ``algorithm`` at the case's seed (other parameters: CASE_PARAMETERS)."""
    updates = {"algorithm": algorithm, "brush_radius_mm": radius_mm}
    params = BrushParameters({**updates, **CASE_PARAMETERS.get(case.name, {})})
    started = time.perf_counter()
    result = compute_brush(case.image, case.ijk_to_ras, case.seed_ras, params)
    elapsed = (time.perf_counter() - started) * 1000.0
    adaptive = in_volume(result, result.mask, case.image.shape)
    plain = in_volume(result, result.region.brush, case.image.shape)
    return Score(dice(adaptive, case.label), dice(plain, case.label), elapsed)


def table(algorithms: Sequence[str], with_time: bool) -> str:
    """Markdown table: one row per case and algorithm."""
    header = "| case | radius (mm) | algorithm | adaptive Dice | plain Dice |"
    rule = "|---|---|---|---|---|"
    if with_time:
        header, rule = header + " ms |", rule + "---|"
    rows = [header, rule]
    for name in CASE_NAMES:
        case = load_case(name)
        radius = covering_radius(case)
        for algorithm in algorithms:
            result = score(case, algorithm, radius)
            row = f"| {name} | {radius:g} | {algorithm} | {result.adaptive:.3f} "
            row += f"| {result.plain:.3f} |"
            rows.append(row + (f" {result.milliseconds:.0f} |" if with_time else ""))
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--algorithms",
        default=",".join(ALGORITHMS),
        help="comma-separated algorithm names (default: all)",
    )
    parser.add_argument("--time", action="store_true", help="add a column with each stroke's ms")
    args = parser.parse_args(argv)
    print(table([a for a in args.algorithms.split(",") if a], args.time))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
