"""Latency of one brush application, from RAS point to segment updated, against the bare call.

For every registered algorithm, 2D (axial disk) and 3D (sphere), radius 5 / 10 / 25 mm:
median and p95 of ``AdaptiveBrushLogic.stroke([point])`` on real MRML nodes (a
vtkMRMLScalarVolumeNode, a vtkMRMLSegmentationNode, the Segment Editor node and logic), and,
measured in the same run on the same point, the algorithm's ``run()`` alone on the very
``BrushInput`` the stroke builds (no geometry, sampling, post-processing or scene write).

Per mode and radius, one segmentation whose labelmap is first allocated over the whole
volume (the steady state of a session: strokes paint where the labelmap already is); the
algorithms take turns at each of the random points inside the body (fixed RNG seed, the
same points for every algorithm), after one untimed warm-up stroke each. What growing the
labelmap costs is measured separately: strokes at the same scattered points into a fresh,
unallocated segment (the worst case for growth). A last table splits 3D strokes into their stages.

Run from the repository root::

    .venv/bin/python benchmarks/latency.py            # full tables, about 2 min on 2 cores
    .venv/bin/python benchmarks/latency.py --quick    # 6 strokes per row, under 1 min
    .venv/bin/python benchmarks/latency.py --image some_ct.nrrd --no-write
    .venv/bin/python benchmarks/latency.py --profile watershed --algorithms watershed
"""

from __future__ import annotations

import argparse
import cProfile
import io
import logging
import os
import pstats
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from common import (
    BenchVolume,
    body_points,
    load_bench_volume,
    machine_description,
    today,
    write_section,
)
from SegmentEditorAdaptiveBrushLib.core.algorithms import ALGORITHMS
from SegmentEditorAdaptiveBrushLib.core.brush import prepare_brush_input
from SegmentEditorAdaptiveBrushLib.core.postprocess import postprocess
from SegmentEditorAdaptiveBrushLib.scene.context import SlicerContext, slicer_context
from SegmentEditorAdaptiveBrushLib.scene.effect_logic import AdaptiveBrushLogic
from SegmentEditorAdaptiveBrushLib.scene.segments import (
    add_segment,
    allocate_segment_labelmap,
    modify_segment_box,
    new_segmentation_node,
)
from SegmentEditorAdaptiveBrushLib.scene.volume import ijk_to_ras, volume_array

RADII_MM = (5.0, 10.0, 25.0)
MODES = ("3d", "2d")
RNG_SEED = 20261204
TARGET_MS = {10.0: 30.0, 25.0: 100.0}
RANDOM_WALKER_TARGET_MS = {10.0: 100.0, 25.0: 300.0}
SEGMENTS_LOGGER = "SegmentEditorAdaptiveBrushLib.scene.segments"
BREAKDOWN_RADII_MM = (10.0, 25.0)
BREAKDOWN_POINTS = 10
STAGES = ("prepare", "algorithm", "postprocess", "write")


def milliseconds(since: float) -> float:
    return (time.perf_counter() - since) * 1000


@dataclass
class Cell:
    """Timings of one algorithm, mode and radius (milliseconds)."""

    algorithm: str
    mode: str
    radius: float
    stroke_ms: list[float]
    bare_ms: list[float]

    def stroke(self, q: float) -> float:
        return float(np.percentile(self.stroke_ms, q))

    def bare(self, q: float) -> float:
        return float(np.percentile(self.bare_ms, q))

    @property
    def ratio(self) -> float:
        return self.stroke(50) / max(self.bare(50), 1e-9)

    def target(self) -> float | None:
        targets = RANDOM_WALKER_TARGET_MS if self.algorithm == "random_walker" else TARGET_MS
        return targets.get(self.radius) if self.mode == "3d" else None


class GrowthCounter(logging.Handler):
    """Counts the labelmap reallocations the scene layer logs (at debug level)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "labelmap grown" in record.getMessage():
            self.count += 1


class Bench:
    """A volume in the scene and the editor a benchmark paints with."""

    def __init__(self, context: SlicerContext, volume: BenchVolume) -> None:
        self.context = context
        self.volume = volume
        self.voxels = volume_array(volume.node)
        self.matrix = ijk_to_ras(volume.node)
        self.editor = context.scene.AddNewNodeByClass("vtkMRMLSegmentEditorNode")
        self.editor.SetAndObserveSourceVolumeNode(volume.node)
        self.logic = AdaptiveBrushLogic(self.editor, context)
        self.segmentation: Any = None
        self.segment_id = ""
        self.growth = GrowthCounter()
        segments_logger = logging.getLogger(SEGMENTS_LOGGER)
        segments_logger.setLevel(logging.DEBUG)
        segments_logger.propagate = False
        segments_logger.addHandler(self.growth)

    def new_segment(self, allocate: bool = True) -> None:
        """A fresh segmentation and segment; ``allocate`` sizes its labelmap to the volume."""
        self.drop_segment()
        self.segmentation = new_segmentation_node(
            self.context.scene, self.volume.node, "latency benchmark"
        )
        self.segment_id = add_segment(self.segmentation, "structure")
        self.editor.SetAndObserveSegmentationNode(self.segmentation)
        self.editor.SetSelectedSegmentID(self.segment_id)
        if allocate:
            allocate_segment_labelmap(self.segmentation, self.segment_id, self.matrix)

    def drop_segment(self) -> None:
        if self.segmentation is not None:
            self.context.scene.RemoveNode(self.segmentation.GetDisplayNode())
            self.context.scene.RemoveNode(self.segmentation)
            self.segmentation = None

    def time_stroke(self, point: np.ndarray) -> tuple[float, bool]:
        """Milliseconds of one stroke, and whether it reallocated the segment's labelmap."""
        grown = self.growth.count
        started = time.perf_counter()
        self.logic.stroke([point])
        return milliseconds(started), self.growth.count > grown

    def time_bare(self, point: np.ndarray) -> float:
        params = self.logic.parameters
        _, inp = prepare_brush_input(self.voxels, self.matrix, point, params)
        algorithm = ALGORITHMS[params["algorithm"]]
        started = time.perf_counter()
        algorithm.run(inp)
        return milliseconds(started)

    def time_stages(self, point: np.ndarray) -> list[float]:
        """The stages of one stroke timed one by one, in the order the stroke runs them."""
        params = self.logic.parameters
        started = time.perf_counter()
        region, inp = prepare_brush_input(self.voxels, self.matrix, point, params)
        prepared = milliseconds(started)
        started = time.perf_counter()
        raw = np.asarray(ALGORITHMS[params["algorithm"]].run(inp), dtype=bool)
        ran = milliseconds(started)
        started = time.perf_counter()
        mask = postprocess(raw & inp.brush, region.seed, inp.spacing, params) & inp.brush
        processed = milliseconds(started)
        started = time.perf_counter()
        modify_segment_box(
            self.logic.editor_logic,
            self.segmentation,
            self.segment_id,
            region.start,
            mask,
            False,
            self.matrix,
            self.voxels,
        )
        return [prepared, ran, processed, milliseconds(started)]


def parameters(algorithm: str, mode: str, radius: float) -> dict[str, Any]:
    return {
        "algorithm": algorithm,
        "brush_radius_mm": radius,
        "brush_mode": mode,
        "slice_orientation": "axial",
    }


def run_group(
    bench: Bench,
    algorithms: Sequence[str],
    mode: str,
    radius: float,
    points: np.ndarray,
    strokes: int,
    budget_s: float,
) -> list[Cell]:
    """The rows of one mode and radius, the algorithms taking turns at each point.

    Taking turns spreads any burst of load from elsewhere on the machine over every
    algorithm alike instead of spoiling one row. Each point gets a stroke then the bare
    call, per algorithm; one untimed warm-up stroke per algorithm comes first.
    """
    bench.new_segment()
    cells = [Cell(algorithm, mode, radius, [], []) for algorithm in algorithms]
    for cell in cells:
        bench.logic.restore_parameters(parameters(cell.algorithm, mode, radius))
        bench.time_stroke(points[-1])
    started = time.perf_counter()
    for point in points[:strokes]:
        for cell in cells:
            bench.logic.restore_parameters(parameters(cell.algorithm, mode, radius))
            cell.stroke_ms.append(bench.time_stroke(point)[0])
            cell.bare_ms.append(bench.time_bare(point))
        if len(cells[0].stroke_ms) >= 5 and time.perf_counter() - started > budget_s:
            break
    bench.drop_segment()
    return cells


def run_growth(bench: Bench, points: np.ndarray) -> tuple[list[float], list[float]]:
    """Connected threshold, 3D, R = 10 mm strokes into a fresh segment that is not allocated:
    milliseconds of the strokes that grew its labelmap and of those that did not."""
    bench.new_segment(allocate=False)
    bench.logic.restore_parameters(parameters("connected_threshold", "3d", 10.0))
    grew: list[float] = []
    stayed: list[float] = []
    for point in points:
        stroke_ms, grown = bench.time_stroke(point)
        (grew if grown else stayed).append(stroke_ms)
    bench.drop_segment()
    return grew, stayed


def run_breakdown(bench: Bench, algorithm: str, radius: float, points: np.ndarray) -> list[float]:
    """Median milliseconds of each stage of 3D strokes (segment allocated beforehand)."""
    bench.new_segment()
    bench.logic.restore_parameters(parameters(algorithm, "3d", radius))
    bench.time_stages(points[-1])
    rows = [bench.time_stages(point) for point in points[:BREAKDOWN_POINTS]]
    bench.drop_segment()
    return [float(v) for v in np.median(np.asarray(rows), axis=0)]


def profile_cell(bench: Bench, algorithm: str, radius: float, points: np.ndarray) -> str:
    """cProfile of 3D strokes of one algorithm: the functions with the most own time."""
    bench.new_segment()
    bench.logic.restore_parameters(parameters(algorithm, "3d", radius))
    bench.time_stroke(points[-1])
    profiler = cProfile.Profile()
    profiler.enable()
    for point in points[:20]:
        bench.logic.stroke([point])
    profiler.disable()
    bench.drop_segment()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
    return out.getvalue()


def latency_table(cells: Sequence[Cell]) -> str:
    lines = [
        "| algorithm | mode | R mm | n | stroke median | stroke p95 | bare median | bare p95 "
        "| overhead ms | ratio | target |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in cells:
        target = c.target()
        verdict = ""
        if target is not None:
            verdict = f"< {target:.0f}: {'met' if c.stroke(50) < target else 'MISSED'}"
        lines.append(
            f"| {c.algorithm} | {c.mode} | {c.radius:.0f} | {len(c.stroke_ms)} "
            f"| {c.stroke(50):.1f} | {c.stroke(95):.1f} | {c.bare(50):.1f} | {c.bare(95):.1f} "
            f"| {c.stroke(50) - c.bare(50):.1f} | {c.ratio:.2f} | {verdict} |"
        )
    return "\n".join(lines)


def breakdown_table(rows: Sequence[tuple[str, float, list[float]]]) -> str:
    lines = [
        "| algorithm | R mm | prepare | algorithm | postprocess | write | sum |",
        "|---|---|---|---|---|---|---|",
    ]
    for algorithm, radius, stages in rows:
        cells = " | ".join(f"{v:.1f}" for v in stages)
        lines.append(f"| {algorithm} | {radius:.0f} | {cells} | {sum(stages):.1f} |")
    return "\n".join(lines)


def header(volume: BenchVolume, strokes: int, budget_s: float) -> str:
    return (
        f"Measured {today()} on {machine_description()}.\n\n"
        f"Volume: {volume.description}.\n\n"
        "Each row: one algorithm, 3D sphere or 2D axial disk, brush radius R. *stroke* = "
        "`AdaptiveBrushLogic.stroke([point])` from the RAS point to the segment updated in "
        "the scene (real vtkMRMLScalarVolumeNode / vtkMRMLSegmentationNode, default masking "
        "settings, one segmentation per mode and radius with its labelmap allocated over the "
        "volume, the algorithms taking turns at each point after one untimed warm-up stroke "
        "each). *bare* = the "
        "algorithm's `run()` alone on the same `BrushInput` (same ROI, seed and statistics), "
        "timed right after each stroke in the same run. *overhead ms* = stroke median - bare "
        "median (geometry, sampling, post-processing, scene write); *ratio* = stroke median / "
        f"bare median. Milliseconds. Up to {strokes} strokes per row at random points inside "
        f"the body (RNG seed {RNG_SEED}, the same points for every algorithm), fewer when a "
        f"mode and radius pass {budget_s:.0f} s. Targets (3D): median < 30 ms at "
        "R = 10 mm and < 100 ms at R = 25 mm (random walker < 100 / < 300 ms), ratio <= 1.5."
    )


def breakdown_header() -> str:
    return (
        "Where the time of a 3D stroke goes (median ms of "
        f"{BREAKDOWN_POINTS} strokes, stages timed one by one on the same points): *prepare* "
        "= brush geometry, ROI copy and intensity sampling (`prepare_brush_input`), "
        "*algorithm* = `run()`, *postprocess* = clip, closing, seed component, hole filling "
        "(`core/postprocess.py`), *write* = `modify_segment_box` into the (allocated) segment. "
        "The stroke itself adds about 0.5 ms around these (node and matrix look-ups, plan)."
    )


def notes(growth: tuple[list[float], list[float]], load_before: float, started: float) -> str:
    grew, stayed = growth
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        "Growing the labelmap: connected threshold, 3D, R = 10 mm, the same scattered points "
        "painted into a fresh segment whose labelmap is not allocated beforehand (it grows "
        "past each box that leaves it by half its size, copying itself once per growth): "
        f"{len(grew)} of {len(grew) + len(stayed)} strokes grew it, median "
        f"{np.median(grew) if grew else 0:.0f} ms (max {max(grew, default=0):.0f} ms) against "
        f"{np.median(stayed) if stayed else 0:.0f} ms for the others. Load average (1 min) "
        f"before / after: {load_before:.2f} / {load:.2f}. Whole benchmark: "
        f"{time.perf_counter() - started:.0f} s."
    )


def measure(
    bench: Bench,
    algorithms: Sequence[str],
    points: dict[float, np.ndarray],
    strokes: int,
    budget_s: float,
    report: Callable[[str], None],
) -> tuple[list[Cell], list[tuple[str, float, list[float]]]]:
    """The latency table's rows and the stage breakdown's rows."""
    cells = []
    for mode in MODES:
        for radius in RADII_MM:
            group = run_group(bench, algorithms, mode, radius, points[radius], strokes, budget_s)
            cells += group
            for cell in group:
                report(
                    f"{cell.algorithm:22s} {mode} R={radius:4.0f}: stroke {cell.stroke(50):7.1f} "
                    f"(p95 {cell.stroke(95):7.1f}) bare {cell.bare(50):7.1f} ms, "
                    f"ratio {cell.ratio:.2f}, n={len(cell.stroke_ms)}"
                )
    cells.sort(key=lambda c: (algorithms.index(c.algorithm), MODES.index(c.mode), c.radius))
    stages = []
    for algorithm in algorithms:
        for radius in BREAKDOWN_RADII_MM:
            medians = run_breakdown(bench, algorithm, radius, points[radius])
            stages.append((algorithm, radius, medians))
            report(
                f"{algorithm:22s} stages R={radius:4.0f}: " + " ".join(f"{v:.1f}" for v in medians)
            )
    return cells, stages


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--image", help="any scalar CT volume file (default: synthetic)")
    parser.add_argument("--quick", action="store_true", help="6 strokes per row")
    parser.add_argument("--strokes", type=int, default=30, help="strokes per row (30)")
    parser.add_argument("--algorithms", help="comma-separated subset of algorithms")
    parser.add_argument("--profile", help="also print a cProfile of this algorithm (3D)")
    parser.add_argument("--no-write", action="store_true", help="do not update the report")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    strokes = 6 if args.quick else args.strokes
    budget_s = 15.0 if args.quick else 60.0
    algorithms = args.algorithms.split(",") if args.algorithms else list(ALGORITHMS)

    context = slicer_context()
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    started = time.perf_counter()
    volume = load_bench_volume(context, args.image)
    bench = Bench(context, volume)
    print(f"volume ready in {time.perf_counter() - started:.1f} s: {volume.description}")
    points = {r: body_points(volume.node, strokes + 1, RNG_SEED, margin_mm=r) for r in RADII_MM}
    if args.profile:
        for radius in BREAKDOWN_RADII_MM:
            print(f"--- profile: {args.profile}, 3d, R = {radius:.0f} mm")
            print(profile_cell(bench, args.profile, radius, points[radius]))

    cells, stages = measure(
        bench, algorithms, points, strokes, budget_s, lambda line: print(line, flush=True)
    )
    growth = run_growth(bench, points[10.0])
    body = "\n\n".join(
        [
            header(volume, strokes, budget_s),
            latency_table(cells),
            notes(growth, load_before, started),
            breakdown_header(),
            breakdown_table(stages),
        ]
    )
    print()
    print(body)
    if not args.no_write:
        write_section("Brush latency", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
