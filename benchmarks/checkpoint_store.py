"""Checkpoint store costs for a recipe of random R=10 mm ball strokes (prints a table).

Plays the runner's part: keeps the live segmentation as a dense array, paints a ball per
step, and hands the store the stroke's box before and after. Reports bytes held against
full per-step copies, the memory tracemalloc really sees, and median times of record,
state_at and changes_between. Run from the repository root:

    .venv/bin/python benchmarks/checkpoint_store.py [--shape K J I] [--steps N]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable, Iterator
from functools import partial

import numpy as np
from SegmentEditorAdaptiveBrushTesterLib.core.checkpoints import CheckpointStore

SPACING_MM = (1.0, 0.57, 0.57)  # (k, j, i)
RADIUS_MM = 10.0
SEGMENT = "tumor"

Stroke = tuple[tuple[int, int, int], tuple[int, int, int], np.ndarray]


def ball_strokes(shape: tuple[int, int, int], count: int, seed: int) -> Iterator[Stroke]:
    """Boxes and masks of ellipsoids R mm across, centred at random voxels."""
    rng = np.random.default_rng(seed)
    radii = [RADIUS_MM / s for s in SPACING_MM]
    for _ in range(count):
        centre = [int(rng.integers(0, n)) for n in shape]
        start = tuple(max(0, int(c - r)) for c, r in zip(centre, radii, strict=True))
        stop = tuple(min(n, int(c + r) + 1) for c, r, n in zip(centre, radii, shape, strict=True))
        grids = np.ogrid[tuple(slice(a, b) for a, b in zip(start, stop, strict=True))]
        terms = [((g - c) / r) ** 2 for g, c, r in zip(grids, centre, radii, strict=True)]
        yield start, stop, (terms[0] + terms[1] + terms[2]) <= 1.0  # type: ignore[misc]


def play(store: CheckpointStore, strokes: list[Stroke], volume: np.ndarray) -> list[float]:
    """Paint every stroke into ``volume`` and record it; returns record times in ms."""
    times = []
    for step, (start, stop, inside) in enumerate(strokes):
        box = tuple(slice(a, b) for a, b in zip(start, stop, strict=True))
        before = volume[box].copy()
        volume[box] |= inside
        after = volume[box].copy()
        began = time.perf_counter()
        store.record(step, start, stop, {SEGMENT: before}, {SEGMENT: after}, {"step": step})
        times.append((time.perf_counter() - began) * 1e3)
    return times


def traced_bytes(shape: tuple[int, int, int], strokes: list[Stroke]) -> int:
    """Python allocations the store really keeps for the whole recipe (tracemalloc)."""
    volume = np.zeros(shape, dtype=bool)  # the scene's copy, allocated before tracing
    gc.collect()
    tracemalloc.start()
    baseline = tracemalloc.get_traced_memory()[0]
    store = CheckpointStore(shape, SEGMENT)
    store.start({SEGMENT: volume})
    play(store, strokes, volume)
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - baseline
    tracemalloc.stop()
    return held


def median_ms(calls: list[Callable[[], object]]) -> float:
    times = []
    for call in calls:
        began = time.perf_counter()
        call()
        times.append((time.perf_counter() - began) * 1e3)
    return statistics.median(times)


def row(name: str, value: str) -> None:
    print(f"| {name:<44} | {value:>22} |")


def timing_rows(store: CheckpointStore, record_ms: list[float], rng: np.random.Generator) -> None:
    last = store.last_step
    steps = [int(s) for s in rng.integers(-1, last + 1, size=15)]
    backs = list(range(0, last + 1, 5))
    pairs = [(int(a), int(b)) for a, b in rng.integers(-1, last + 1, size=(30, 2))]
    state_ms = median_ms([partial(store.state_at, s) for s in steps])
    back_ms = median_ms([partial(store.changes_between, s, s - 1) for s in backs])
    pair_ms = median_ms([partial(store.changes_between, a, b) for a, b in pairs])
    changes = [store.changes_between(a, b) for a, b in pairs]
    voxels = [sum(int(np.prod(np.subtract(c.box_stop, c.box_start))) for c in cs) for cs in changes]
    row("record, median (max) ms", f"{statistics.median(record_ms):.2f} ({max(record_ms):.1f})")
    row("state_at, random step, median ms", f"{state_ms:.1f}")
    row("changes_between, one step back, median ms", f"{back_ms:.2f}")
    row("changes_between, random pair, median ms", f"{pair_ms:.1f}")
    row("  boxes per random pair, median", f"{statistics.median(len(c) for c in changes):g}")
    row("  voxels in those boxes, median", f"{statistics.median(voxels):,.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", type=int, nargs=3, default=(300, 512, 512), help="(k, j, i)")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    shape = (args.shape[0], args.shape[1], args.shape[2])
    strokes = list(ball_strokes(shape, args.steps, args.seed))

    volume = np.zeros(shape, dtype=bool)
    store = CheckpointStore(shape, SEGMENT)
    store.start({SEGMENT: volume})
    record_ms = play(store, strokes, volume)
    stats = store.stats()

    print(f"{args.steps} random R={RADIUS_MM:g} mm balls on {shape} (k, j, i), voxels")
    print(f"{SPACING_MM} mm, one segment, default budget and keyframe interval\n")
    print(f"| {'measure':<44} | {'value':>22} |")
    print(f"|{'-' * 46}|{'-' * 24}|")
    row("checkpoints kept (keyframes)", f"{stats['count']} ({stats['keyframes']})")
    row("full uint8 copies of every checkpoint", f"{stats['full_copy_bytes'] / 1e6:,.1f} MB")
    row("bytes held (stats)", f"{stats['bytes_held'] / 1e3:,.1f} KB")
    row("ratio held / full copies", f"{stats['ratio'] * 100:.4f} %")
    row("bytes held, measured by tracemalloc", f"{traced_bytes(shape, strokes) / 1e3:,.1f} KB")
    timing_rows(store, record_ms, np.random.default_rng(args.seed + 1))
    exact = np.array_equal(store.state_at(store.last_step)[SEGMENT], volume)
    row("last state equals the live segmentation", str(exact))


if __name__ == "__main__":
    main()
