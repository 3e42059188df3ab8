"""Checkpoints at scale: the runner's store against full copies and Slicer's own history.

A 100-step recipe of paint strokes (R = 10 mm, connected threshold or geodesic distance,
random points inside the body of a 512x512x300 CT-like volume) is replayed with
``SteppingRecipeRunner``. Then, side by side in one run:

(a) the runner's checkpoint store: bytes held (``get_checkpoint_stats()``) and
    ``goto_step`` to random steps in random order (the segment in the scene updated; each
    arrival is checked against a reference array, outside the timing);
(b) full numpy copies per step: bytes, and restoring = writing the whole array back into
    the segment (in place, and through Slicer's ``ModifySegmentByLabelmap`` for a few);
(c) Slicer's ``vtkSegmentationHistory``: the same strokes with
    ``vtkSlicerSegmentEditorLogic.SaveStateForUndo`` before each (as the Segment Editor
    does), bytes held (the labelmap copies it keeps), then ``Undo`` from the last step back
    to the same steps.

Run from the repository root (about 2 minutes, up to ~7 GB of memory for (c))::

    .venv/bin/python benchmarks/checkpoints.py [--steps 100] [--targets 30] [--image CT.nrrd]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import SimpleITK as sitk  # noqa: N813  (the alias every SimpleITK user knows)
from common import (
    body_points_in,
    image_ijk_to_ras,
    machine_description,
    synthetic_ct_image,
    today,
    write_section,
)
from SegmentEditorAdaptiveBrushLib.scene.context import SlicerContext, slicer_context
from SegmentEditorAdaptiveBrushLib.scene.effect_logic import AdaptiveBrushLogic
from SegmentEditorAdaptiveBrushLib.scene.segments import (
    BINARY_LABELMAP,
    add_segment,
    new_segmentation_node,
    read_segment_full,
    write_segment_box,
)
from SegmentEditorAdaptiveBrushLib.scene.volume import ijk_to_ras, oriented_image, volume_array
from SegmentEditorAdaptiveBrushTesterLib import ActionRecipe, RecipeAction, SteppingRecipeRunner
from SegmentEditorAdaptiveBrushTesterLib.scene.sample_data import read_volume_file
from vtk.util import numpy_support

RNG_SEED = 20261205
RADIUS_MM = 10.0
ALGORITHMS = ("connected_threshold", "geodesic_distance")
SLICER_WRITES = 3
GOTO_TARGET_MS = 50.0


def ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000


def rss_bytes() -> int:
    """Resident memory of this process (Linux), 0 where unknown."""
    status = Path("/proc/self/status")
    if not status.is_file():
        return 0
    for line in status.read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def stats(values: Sequence[float]) -> str:
    return f"{np.median(values):.1f} / {np.percentile(values, 95):.1f}"


@dataclass
class References:
    """The segment at chosen steps, bit-packed: what every method must restore exactly."""

    shape: tuple[int, int, int]
    packed: dict[int, np.ndarray] = field(default_factory=dict)

    def keep(self, step: int, mask: np.ndarray) -> None:
        self.packed[step] = np.packbits(mask, axis=None)

    def get(self, step: int) -> np.ndarray:
        count = int(np.prod(self.shape))
        return np.unpackbits(self.packed[step], count=count).view(bool).reshape(self.shape)


def prepare_volume(
    image_path: str | None, folder: Path, count: int
) -> tuple[Path, str, np.ndarray]:
    """The volume file the recipe names, its description, and ``count`` seeds (RAS, mm)."""
    if image_path:
        image = sitk.ReadImage(image_path)
        path, description = Path(image_path), Path(image_path).name
    else:
        image, description = synthetic_ct_image()
        path = folder / "bench_ct.nrrd"
        sitk.WriteImage(image, str(path), useCompression=False)
    voxels = sitk.GetArrayViewFromImage(image)
    points = body_points_in(voxels, image_ijk_to_ras(image), count, RNG_SEED, RADIUS_MM)
    return path, description, points


def make_recipe(path: Path, points: np.ndarray, seed: int) -> ActionRecipe:
    rng = np.random.default_rng(seed)
    actions = [
        RecipeAction.paint(
            tuple(float(v) for v in point),
            algorithm=str(rng.choice(ALGORITHMS)),
            brush_radius_mm=RADIUS_MM,
        )
        for point in points
    ]
    return ActionRecipe(
        name="checkpoint benchmark",
        sample_data=str(path),
        segment_name="structure",
        actions=actions,
    )


def replay(runner: SteppingRecipeRunner, targets: set[int], refs: References) -> list[float]:
    """Run every step, keep references of the target steps; step times in ms."""
    times = []
    refs.keep(-1, runner.current_segment_array())
    while True:
        started = time.perf_counter()
        if not runner.step_forward():
            break
        times.append(ms(started))
        if runner.current_step in targets:
            refs.keep(runner.current_step, runner.current_segment_array())
    return times


def store_gotos(
    runner: SteppingRecipeRunner, order: Sequence[int], refs: References
) -> list[float]:
    """(a): goto_step in the given order, each arrival checked bit for bit (untimed)."""
    times = []
    for step in order:
        started = time.perf_counter()
        runner.goto_step(step)
        times.append(ms(started))
        if not np.array_equal(runner.current_segment_array(), refs.get(step)):
            raise AssertionError(f"goto_step({step}) did not restore the segment exactly")
    return times


def full_copy_restores(
    runner: SteppingRecipeRunner, order: Sequence[int], refs: References
) -> tuple[list[float], list[float]]:
    """(b): write whole arrays back: in place, and through Slicer for a few steps."""
    matrix = ijk_to_ras(runner.volume_node)
    segment = str(runner.segment_id)
    in_place, through_slicer = [], []
    for step in order:
        target = refs.get(step)
        started = time.perf_counter()
        write_segment_box(
            runner.logic.editor_logic, runner.segmentation_node, segment, (0, 0, 0), target, matrix
        )
        in_place.append(ms(started))
        check(runner.segmentation_node, segment, target, matrix, f"full write of step {step}")
    for step in order[:SLICER_WRITES]:
        target = refs.get(step)
        started = time.perf_counter()
        slicer_full_write(
            runner.logic.editor_logic, runner.segmentation_node, segment, target, matrix
        )
        through_slicer.append(ms(started))
        check(runner.segmentation_node, segment, target, matrix, f"Slicer write of step {step}")
    return in_place, through_slicer


def bare_copy_ms(
    runner: SteppingRecipeRunner, order: Sequence[int], refs: References
) -> list[float]:
    """Lower bound for (b): the array copied straight into the labelmap's scalars (one pass,
    the segment alone in its layer, no checks), then the labelmap marked modified."""
    segment = runner.segmentation_node.GetSegmentation().GetSegment(str(runner.segment_id))
    label = segment.GetLabelValue()
    times = []
    for step in order:
        target = refs.get(step)
        image = segment.GetRepresentation(BINARY_LABELMAP)
        scalars = numpy_support.vtk_to_numpy(image.GetPointData().GetScalars())
        if image.GetExtent() != (
            0,
            target.shape[2] - 1,
            0,
            target.shape[1] - 1,
            0,
            target.shape[0] - 1,
        ):
            raise AssertionError("the runner's labelmap should cover the whole volume")
        started = time.perf_counter()
        np.multiply(target.ravel(), label, out=scalars, casting="unsafe")
        image.Modified()
        times.append(ms(started))
        matrix = ijk_to_ras(runner.volume_node)
        check(runner.segmentation_node, str(runner.segment_id), target, matrix, "bare copy")
    return times


def slicer_full_write(
    editor_logic: Any,
    segmentation_node: Any,
    segment_id: str,
    target: np.ndarray,
    matrix: np.ndarray,
) -> None:
    """What a restore through Slicer's editor logic costs: Add the on-voxels of the whole
    volume, Remove the off-voxels (Set mode would ignore the extent)."""
    for voxels, mode in (
        (target, editor_logic.ModificationModeAdd),
        (~target, editor_logic.ModificationModeRemove),
    ):
        image = oriented_image(voxels, (0, 0, 0), matrix)
        editor_logic.ModifySegmentByLabelmap(segmentation_node, segment_id, image, mode, True, True)


def check(node: Any, segment_id: str, expected: np.ndarray, matrix: np.ndarray, what: str) -> None:
    if not np.array_equal(read_segment_full(node, segment_id, expected.shape, matrix), expected):
        raise AssertionError(f"{what} did not give the reference segment")


@dataclass
class HistoryResult:
    state_bytes: list[int]
    save_ms: list[float]
    rss_growth: int
    undo_ms: dict[int, float]
    per_undo_ms: list[float]


def slicer_history(
    context: SlicerContext, recipe: ActionRecipe, targets: set[int], refs: References
) -> HistoryResult:
    """(c): the same strokes with SaveStateForUndo before each, then Undo back to step -1."""
    volume = read_volume_file(context, Path(recipe.sample_data), "history benchmark")
    segmentation = new_segmentation_node(context.scene, volume, "history benchmark")
    segment_id = add_segment(segmentation, "structure")
    editor = context.scene.AddNewNodeByClass("vtkMRMLSegmentEditorNode")
    try:
        editor.SetAndObserveSegmentationNode(segmentation)
        editor.SetAndObserveSourceVolumeNode(volume)
        editor.SetSelectedSegmentID(segment_id)
        logic = AdaptiveBrushLogic(editor, context)
        logic.editor_logic.SetMaximumNumberOfUndoStates(len(recipe.actions) + 1)
        return run_history(logic, segmentation, segment_id, volume, recipe, targets, refs)
    finally:
        for node in (editor, segmentation.GetDisplayNode(), segmentation):
            context.scene.RemoveNode(node)
        for node in (volume.GetDisplayNode(), volume.GetStorageNode(), volume):
            if node is not None:
                context.scene.RemoveNode(node)


def run_history(
    logic: AdaptiveBrushLogic,
    segmentation: Any,
    segment_id: str,
    volume: Any,
    recipe: ActionRecipe,
    targets: set[int],
    refs: References,
) -> HistoryResult:
    state_bytes, save_ms = [], []
    rss_before = rss_bytes()
    for action in recipe.actions:
        logic.set_parameters(action.params)
        labelmap = (
            segmentation.GetSegmentation().GetSegment(segment_id).GetRepresentation(BINARY_LABELMAP)
        )
        scalars = labelmap.GetPointData().GetScalars()
        state_bytes.append(
            0 if scalars is None else scalars.GetNumberOfValues() * scalars.GetDataTypeSize()
        )
        started = time.perf_counter()
        logic.editor_logic.SaveStateForUndo()
        save_ms.append(ms(started))
        logic.stroke([action.ras])
    rss_growth = rss_bytes() - rss_before
    matrix, shape = ijk_to_ras(volume), volume_array(volume).shape
    undo_ms: dict[int, float] = {}
    per_undo: list[float] = []
    elapsed = 0.0
    for step in range(len(recipe.actions) - 2, -2, -1):
        started = time.perf_counter()
        logic.editor_logic.Undo()
        per_undo.append(ms(started))
        elapsed += per_undo[-1]
        if step in targets:
            undo_ms[step] = elapsed
            got = read_segment_full(segmentation, segment_id, shape, matrix)
            if not np.array_equal(got, refs.get(step)):
                raise AssertionError(f"Undo to step {step} did not give the reference segment")
    return HistoryResult(state_bytes, save_ms, rss_growth, undo_ms, per_undo)


def report(
    description: str,
    steps: int,
    step_ms: list[float],
    store: dict[str, Any],
    goto_ms: list[float],
    full: tuple[list[float], list[float], list[float]],
    history: HistoryResult,
    voxels: int,
    order: Sequence[int],
) -> str:
    full_bytes = (steps + 1) * voxels
    held = store["bytes_held"]
    history_bytes = sum(history.state_bytes)
    undo = list(history.undo_ms.values())
    rows = [
        "| method | bytes held for the recipe | per step | restore median / p95 ms | exact |",
        "|---|---|---|---|---|",
        f"| (a) runner checkpoint store | {held / 1e3:,.0f} KB ({100 * held / full_bytes:.4f} % "
        f"of (b)) | {held / (steps + 1) / 1e3:.2f} KB | goto_step {stats(goto_ms)} | yes |",
        f"| (b) full uint8 copy per step | {full_bytes / 1e9:.2f} GB | {voxels / 1e6:.1f} MB "
        f"| whole array written with `write_segment_box` {stats(full[0])}; through Slicer's "
        f"ModifySegmentByLabelmap {stats(full[1])} (n={len(full[1])}); lower bound, copied "
        f"straight into the labelmap's scalars {stats(full[2])} | yes |",
        f"| (c) Slicer vtkSegmentationHistory | {history_bytes / 1e9:.2f} GB (RSS grew "
        f"{history.rss_growth / 1e9:.2f} GB) | {np.mean(history.state_bytes) / 1e6:.1f} MB mean "
        f"| Undo from the last step to the same steps {stats(undo)}; one Undo "
        f"{stats(history.per_undo_ms)}; SaveStateForUndo {stats(history.save_ms)} | yes |",
    ]
    text = (
        f"Measured {today()} on {machine_description()}.\n\n"
        f"Volume: {description}. Recipe: {steps} paint steps, R = {RADIUS_MM:.0f} mm, "
        f"connected threshold or geodesic distance at random points inside the body (RNG seed "
        f"{RNG_SEED}), replayed with `SteppingRecipeRunner` in {sum(step_ms) / 1e3:.1f} s "
        f"(step median / p95 {stats(step_ms)} ms, checkpoint included). Restores go to "
        f"{len(order)} random steps in random order (-1 = initial state included); every "
        "restore was compared with a reference array of that step, outside the timing. "
        f"Store: {store['count']} checkpoints, {store['keyframes']} keyframes, "
        f"bytes_held / full_copy_bytes = {store['ratio']:.2e}.\n\n" + "\n".join(rows) + "\n\n"
        f"Targets: (a) holds <= 0.1 % of (b): {'met' if held <= 1e-3 * full_bytes else 'MISSED'} "
        f"({100 * held / full_bytes:.4f} %); goto_step median < {GOTO_TARGET_MS:.0f} ms: "
        f"{'met' if np.median(goto_ms) < GOTO_TARGET_MS else 'MISSED'} "
        f"(max {max(goto_ms):.1f} ms). (c) keeps one copy of the segment's stored labelmap "
        "per saved state (its extent, the painted bounding box, grows with the strokes)."
    )
    return text


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--image", help="any scalar CT volume file (default: synthetic)")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--targets", type=int, default=30, help="steps restored in (a)-(c)")
    parser.add_argument("--no-write", action="store_true", help="do not update the report")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    context = slicer_context()
    rng = np.random.default_rng(RNG_SEED)
    with tempfile.TemporaryDirectory() as folder:
        path, description, points = prepare_volume(args.image, Path(folder), args.steps)
        recipe = make_recipe(path, points, RNG_SEED)
        order = [int(s) for s in rng.choice(np.arange(-1, args.steps), args.targets, replace=False)]
        targets = set(order)
        runner = SteppingRecipeRunner(recipe)
        runner.setup()
        try:
            refs = References(tuple(volume_array(runner.volume_node).shape))
            step_ms = replay(runner, targets, refs)
            print(f"replayed {len(step_ms)} steps, median {np.median(step_ms):.1f} ms", flush=True)
            store = runner.get_checkpoint_stats()
            goto_ms = store_gotos(runner, order, refs)
            print(f"(a) goto_step median / p95 {stats(goto_ms)} ms", flush=True)
            bare = bare_copy_ms(runner, order, refs)
            full = (*full_copy_restores(runner, order, refs), bare)
            print(f"(b) full writes {stats(full[0])} / Slicer {stats(full[1])} ms", flush=True)
        finally:
            runner.cleanup()
        history = slicer_history(context, recipe, targets, refs)
        print(f"(c) history {sum(history.state_bytes) / 1e9:.2f} GB", flush=True)
    body = report(
        description,
        args.steps,
        step_ms,
        store,
        goto_ms,
        full,
        history,
        int(np.prod(refs.shape)),
        order,
    )
    print()
    print(body)
    if not args.no_write:
        write_section("Checkpoints", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
