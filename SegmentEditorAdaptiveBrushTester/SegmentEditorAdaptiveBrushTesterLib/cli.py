"""Main job: replay a recipe headless and write a report, the segmentation and pictures.

Usage::

    adaptive-brush-replay [RECIPE.json] [--output DIR]

Without a recipe it replays the shipped right-lung recipe on the embedded chest CT.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from SegmentEditorAdaptiveBrushLib.core.errors import AdaptiveBrushError
from SegmentEditorAdaptiveBrushLib.core.geometry import spacing_kji

from .core import metrics, pictures
from .core.recipe import ActionRecipe, RecipeError
from .core.report import RunReport, StepReport, collect_environment
from .scene.files import save_segmentation
from .scene.runner import StepError, SteppingRecipeRunner
from .scene.sample_data import SampleDataError

logger = logging.getLogger(__name__)

DEFAULT_RECIPE = "right_lung.json"
DEFAULT_OUTPUT = "adaptive-brush-output"


def default_recipe_path() -> Path:
    """The shipped recipe that segments the right lung of the embedded chest CT."""
    return Path(str(resources.files(__package__) / "Recipes" / DEFAULT_RECIPE))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="adaptive-brush-replay",
        description="Replay an Adaptive Brush recipe headless and report on the result.",
    )
    parser.add_argument("recipe", nargs="?", help="recipe JSON (default: the right-lung recipe)")
    parser.add_argument(
        "-o",
        "--output",
        default=DEFAULT_OUTPUT,
        help=f"output folder (default: ./{DEFAULT_OUTPUT})",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no per-step progress")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the main job; returns the process exit code (0 ok, 1 failed, 2 bad input)."""
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    output = Path(args.output)
    try:
        _check_output_folder(output)
        recipe = ActionRecipe.load(args.recipe or default_recipe_path())
        report, failure = replay(recipe, output, progress=not args.quiet)
    except (RecipeError, SampleDataError, OutputFolderError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except AdaptiveBrushError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    _print_summary(report, output)
    if failure is not None:
        print(
            f"error: {failure}; the outputs show the state after the last good step",
            file=sys.stderr,
        )
        return 1
    return 0


class OutputFolderError(AdaptiveBrushError, ValueError):
    """The output folder cannot be used."""


def _check_output_folder(output: Path) -> None:
    """Refuse an output path that is a file, before anything runs."""
    for folder in (output, *output.parents):
        if folder.exists():
            if not folder.is_dir():
                raise OutputFolderError(f"output path {folder} exists and is not a folder")
            return


def replay(
    recipe: ActionRecipe, output: Path, progress: bool = True
) -> tuple[RunReport, StepError | None]:
    """Replay ``recipe`` step by step and write everything into ``output``.

    A failing step stops the replay; the outputs then describe the state after the last
    good step and the error is returned beside the report.
    """
    runner = SteppingRecipeRunner(recipe)
    started = time.perf_counter()
    runner.setup()
    try:
        steps: list[StepReport] = []
        failure = None
        try:
            _run_steps(runner, progress, steps)
        except StepError as error:
            failure = error
        total = time.perf_counter() - started
        return _write_outputs(runner, steps, total, output), failure
    finally:
        runner.cleanup()


def _run_steps(runner: SteppingRecipeRunner, progress: bool, steps: list[StepReport]) -> None:
    """Step to the end, appending a StepReport per step (so a failure keeps the others)."""
    spacing = spacing_kji(runner.volume_ijk_to_ras())
    for index in range(runner.total_steps()):
        label = runner.step_label(index)
        began = time.perf_counter()
        runner.step_forward()
        seconds = time.perf_counter() - began
        result = runner.current_segment_array()
        scores = (
            None
            if runner.reference_array is None
            else metrics.compare(result, runner.reference_array, spacing)
        )
        steps.append(StepReport.from_metrics(index, label, seconds, int(result.sum()), scores))
        if progress:
            print(_progress_line(steps[-1], runner.total_steps()), flush=True)


def _progress_line(step: StepReport, total: int) -> str:
    line = f"[{step.index + 1}/{total}] step {step.index}, {step.label}: "
    line += f"{step.seconds * 1000:.0f} ms, "
    line += f"{step.voxels} voxels"
    if step.dice is not None:
        line += f", Dice {step.dice:.3f}, HD95 {_mm(step.hd95_mm)}"
    return line


def _mm(value: float | None) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.1f} mm"


def _write_outputs(
    runner: SteppingRecipeRunner, steps: list[StepReport], total: float, output: Path
) -> RunReport:
    """Write every output into a staging folder beside ``output``, then move the files in,
    so a failure while writing never leaves a report describing another segmentation."""
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}-", dir=output.parent))
    try:
        report = _write_report_files(runner, steps, total, staging)
        output.mkdir(exist_ok=True)
        for name in sorted(p.name for p in staging.iterdir()):
            os.replace(staging / name, output / name)
        return report
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _write_report_files(
    runner: SteppingRecipeRunner, steps: list[StepReport], total: float, folder: Path
) -> RunReport:
    recipe = runner.recipe
    seg_name = f"{_safe(recipe.name)}.seg.nrrd"
    save_segmentation(runner.context, runner.segmentation_node, folder / seg_name)
    outputs = {"segmentation": seg_name, **_write_pictures(runner, folder)}
    result, spacing = runner.current_segment_array(), spacing_kji(runner.volume_ijk_to_ras())
    final = (
        None
        if runner.reference_array is None
        else metrics.compare(result, runner.reference_array, spacing)
    )
    report = RunReport(
        recipe_name=recipe.name,
        sample_data=recipe.sample_data,
        segment_name=recipe.segment_name,
        gold_standard=_describe_gold(recipe),
        steps=steps,
        total_seconds=total,
        checkpoint_stats=runner.get_checkpoint_stats(),
        final_metrics=final,
        outputs=outputs,
        environment=collect_environment(),
    )
    report.write_json(folder / "report.json")
    report.write_markdown(folder / "report.md")
    return report


def _write_pictures(runner: SteppingRecipeRunner, output: Path) -> dict[str, str]:
    from SegmentEditorAdaptiveBrushLib.scene.volume import volume_array

    volume = volume_array(runner.volume_node)
    masks: dict[str, Any] = {runner.recipe.segment_name: runner.current_segment_array()}
    if runner.reference_array is not None:
        masks["reference"] = runner.reference_array
    matrix, written = runner.volume_ijk_to_ras(), {}
    window = pictures.auto_window(volume)
    for axis in ("axial", "coronal"):
        flip_lr, flip_ud = pictures.display_flips(matrix, axis)
        name = f"{axis}.png"
        pictures.render_overlay_png(
            output / name,
            volume,
            masks,
            spacing_kji(matrix),
            axis,
            window=window,
            flip_lr=flip_lr,
            flip_ud=flip_ud,
        )
        written[axis] = name
    return written


def _describe_gold(recipe: ActionRecipe) -> str | None:
    gold = recipe.gold_standard
    if gold is None:
        return None
    return f"{gold.source} / {gold.segment or recipe.segment_name}"


def _safe(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_" else "_" for c in name).strip("_")
    return cleaned or "segmentation"


def _print_summary(report: RunReport, output: Path) -> None:
    final = report.final_metrics
    print(
        f"Replayed '{report.recipe_name}': {len(report.steps)} steps in "
        f"{report.total_seconds:.2f} s"
    )
    if final is not None:
        print(f"Final Dice {final['dice']:.4f}, HD95 {_mm(final['hausdorff95_mm'])}")
    stats = report.checkpoint_stats
    print(
        f"Checkpoints: {stats['count']} holding {stats['bytes_held']} bytes "
        f"({stats['ratio'] * 100:.3f} % of full copies)"
    )
    print(
        f"Wrote {output / 'report.md'}, {output / 'report.json'}, "
        f"{', '.join(str(output / n) for n in report.outputs.values())}"
    )


if __name__ == "__main__":
    sys.exit(main())
