"""SteppingRecipeRunner: replay a recipe one action at a time against the live scene, with a
checkpoint after every step, rewind to any step, and branch into a new recipe.

Invariant: the segmentation in the scene always equals the checkpoint at ``current_step``,
and the checkpoint store only holds steps of the active timeline (the recipe, or while
branching the recipe up to the branch point followed by the manual actions).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import numpy as np
from SegmentEditorAdaptiveBrushLib.core.errors import AdaptiveBrushError
from SegmentEditorAdaptiveBrushLib.core.geometry import voxel_under
from SegmentEditorAdaptiveBrushLib.core.params import BrushParameters
from SegmentEditorAdaptiveBrushLib.scene.context import SlicerContext, slicer_context
from SegmentEditorAdaptiveBrushLib.scene.effect_logic import AdaptiveBrushLogic
from SegmentEditorAdaptiveBrushLib.scene.live_stroke import (
    FinishedStroke,
    LiveStroke,
    add_stroke_router,
    remove_stroke_router,
)
from SegmentEditorAdaptiveBrushLib.scene.segments import (
    add_segment,
    allocate_segment_labelmap,
    flip_segments_boxes,
    new_segmentation_node,
    read_segment_full,
    segment_ids,
)
from SegmentEditorAdaptiveBrushLib.scene.volume import ijk_to_ras, volume_array

from ..core.checkpoints import (
    DEFAULT_BUDGET_BYTES,
    Change,
    CheckpointStore,
    SegmentationCheckpoint,
)
from ..core.recipe import ActionRecipe, RecipeAction, RecipeError
from .sample_data import load_reference_array, load_volume, with_helper_nodes

logger = logging.getLogger(__name__)

StepCallback = Callable[[int, "RecipeAction | None"], Any]
CheckpointCallback = Callable[[SegmentationCheckpoint], Any]


class RunnerError(AdaptiveBrushError, RuntimeError):
    """The runner was asked for something its state does not allow."""


class StepError(AdaptiveBrushError, RuntimeError):
    """A step failed; the scene was left at the previous checkpoint."""

    def __init__(self, step_index: int, label: str, cause: BaseException) -> None:
        super().__init__(f"step {step_index} ({label}) failed: {cause}")
        self.step_index = step_index
        self.cause = cause


class SteppingRecipeRunner:
    """Replays ``recipe`` step by step against the live scene.

    Parameters
    ----------
    recipe : ActionRecipe
        What to replay.
    checkpoint_budget_bytes : int, optional
        Memory the checkpoint store may hold; see ``docs/checkpoints.md``.
    editor_node : vtkMRMLSegmentEditorNode, optional
        Use this editor node (e.g. the Segment Editor widget's in desktop Slicer) instead
        of creating one, so the GUI shows the runner's segmentation and parameters.
    context : SlicerContext, optional
        Scene and logics; defaults to desktop Slicer's or the headless one.
    """

    def __init__(
        self,
        recipe: ActionRecipe,
        checkpoint_budget_bytes: int = DEFAULT_BUDGET_BYTES,
        editor_node: Any = None,
        context: SlicerContext | None = None,
    ) -> None:
        self.recipe = recipe
        self.current_step = -1
        self.volume_node: Any = None
        self.segmentation_node: Any = None
        self.editor_node: Any = editor_node
        self.segment_id: str | None = None
        self.reference_array: np.ndarray | None = None
        self._budget = checkpoint_budget_bytes
        self._context = context
        self._created: list[Any] = []
        self._owns_editor = False
        self._logic: AdaptiveBrushLogic | None = None
        self._store: CheckpointStore | None = None
        self._branch_point: int | None = None
        self._branching = False
        self._branch_actions: list[RecipeAction] = []
        self._step_callback: StepCallback | None = None
        self._checkpoint_callback: CheckpointCallback | None = None

    # State ------------------------------------------------------------------------------

    @property
    def checkpoints(self) -> list[SegmentationCheckpoint]:
        """Kept checkpoints of the active timeline, in step order."""
        return [] if self._store is None else self._store.checkpoints

    @property
    def logic(self) -> AdaptiveBrushLogic:
        """The effect logic the runner drives (after ``setup()``)."""
        return self._require_logic()

    def timeline(self) -> list[RecipeAction]:
        """Actions of the active timeline."""
        if self._branching and self._branch_point is not None:
            return list(self.recipe.actions[: self._branch_point + 1]) + self._branch_actions
        return list(self.recipe.actions)

    def total_steps(self) -> int:
        return len(self.timeline())

    def is_at_start(self) -> bool:
        return self.current_step == -1

    def is_at_end(self) -> bool:
        return self.current_step >= self.total_steps() - 1

    def is_branching(self) -> bool:
        return self._branching

    def is_set_up(self) -> bool:
        """True between ``setup()`` and ``cleanup()``."""
        return self._store is not None

    def has_branch(self) -> bool:
        """True when there is a branch ``save_branch()`` can save (recording or stopped)."""
        return self._branch_point is not None

    def get_current_action(self) -> RecipeAction | None:
        """The action of the step the scene is at; None at the start."""
        actions = self.timeline()
        return actions[self.current_step] if 0 <= self.current_step < len(actions) else None

    def get_next_action(self) -> RecipeAction | None:
        """The action ``step_forward()`` would run; None at the end."""
        actions = self.timeline()
        following = self.current_step + 1
        return actions[following] if following < len(actions) else None

    def step_label(self, step_index: int) -> str:
        """Human-readable label of a step, with the effect's parameters as they were."""
        actions = self.timeline()
        action = actions[self._check_step(step_index, allow_initial=False)]
        return action.label(dict(self._parameters_before(step_index)))

    def _parameters_before(self, step_index: int) -> BrushParameters:
        """The effect's parameters just before ``step_index``: the nearest kept checkpoint's,
        then the parameters of the actions after it (steps not run yet included)."""
        base, params = -1, BrushParameters()
        if self._store is not None:
            base = self._store.nearest_kept_at_or_before(min(step_index - 1, self.current_step))
            checkpoint = self._store.get(base)
            if checkpoint is not None:
                params = BrushParameters(checkpoint.payload["parameters"])
        for action in self.timeline()[base + 1 : step_index]:
            params = params.with_updates(action.params)
        return params

    def set_step_callback(self, callback: StepCallback | None) -> None:
        """``callback(step_index, action)`` after each step is executed or arrived at."""
        self._step_callback = callback

    def set_checkpoint_callback(self, callback: CheckpointCallback | None) -> None:
        """``callback(checkpoint)`` after each new checkpoint is recorded."""
        self._checkpoint_callback = callback

    def get_checkpoint_stats(self) -> dict[str, Any]:
        """Count, bytes held, bytes full copies would take, their ratio, keyframes, budget."""
        if self._store is None:
            return {
                "count": 0,
                "bytes_held": 0,
                "full_copy_bytes": 0,
                "ratio": 0.0,
                "keyframes": 0,
                "budget_bytes": self._budget,
                "thinned": 0,
                "segments": 0,
            }
        return self._store.stats()

    def current_segment_array(self) -> np.ndarray:
        """The recipe's segment as it is in the scene now: bool (k, j, i)."""
        self._require_logic()
        return read_segment_full(
            self.segmentation_node,
            str(self.segment_id),
            volume_array(self.volume_node).shape,
            self._matrix(),
        )

    # Set-up and clean-up ----------------------------------------------------------------

    def setup(self) -> bool:
        """Load the sample data, create the segmentation and segment, set up the effect.

        Returns True when set up, False when it already was. On any error nothing it
        created stays in the scene and the error propagates.
        """
        if self._store is not None:
            logger.warning("runner for '%s' is already set up", self.recipe.name)
            return False
        self.recipe.validate()
        try:
            self._create_nodes()
            self._start_store()
        except BaseException:
            self._remove_created()
            self._logic, self._store = None, None
            raise
        add_stroke_router(self)
        logger.info("Set up recipe '%s': %d steps", self.recipe.name, self.total_steps())
        return True

    def cleanup(self) -> None:
        """Remove what ``setup()`` created and free the checkpoints. Safe to call twice."""
        if self._store is not None:
            self._store.clear()
        self._store = None
        self._remove_created()
        remove_stroke_router(self)
        self._logic = None
        self.current_step = -1
        self._branching = False
        self._branch_point = None
        self._branch_actions = []

    def capture_initial_state(self) -> SegmentationCheckpoint:
        """Take the scene as it is now as the initial state (step -1).

        For segments prepared by hand (for example other segments that "overwrite other
        segments" may edit) before the first step; only allowed at the start.
        """
        self._require_store()
        if self.current_step != -1 or self._branching:
            raise RunnerError("the initial state can only be captured at step -1")
        self._start_store()
        checkpoint = self._require_store().get(-1)
        assert checkpoint is not None
        return checkpoint

    def _create_nodes(self) -> None:
        context = self._context or slicer_context()
        self._context = context
        sample = self.recipe.sample_data
        self.volume_node = load_volume(context, self.recipe.resolve_path(sample))
        self._created += with_helper_nodes(self.volume_node)
        self._check_points_inside()
        self.segmentation_node = new_segmentation_node(
            context.scene, self.volume_node, f"{self.recipe.name} segmentation"
        )
        self._created += with_helper_nodes(self.segmentation_node)
        self.segment_id = add_segment(self.segmentation_node, self.recipe.segment_name)
        self._setup_editor(context)
        self._load_reference(context)

    def _check_points_inside(self) -> None:
        """Refuse a recipe with a point outside the volume before any step runs, so a
        replay never stops half-way for it."""
        matrix, shape = self._matrix(), volume_array(self.volume_node).shape
        for index, action in enumerate(self.recipe.actions):
            if action.ras is None or action.type not in ("paint", "erase"):
                continue
            points = [("ras", action.ras)] + [
                (f"path[{n}]", point) for n, point in enumerate(action.path)
            ]
            for field, point in points:
                if voxel_under(matrix, shape, point) is None:
                    raise RecipeError(
                        f"point R {point[0]:.1f} A {point[1]:.1f} S {point[2]:.1f} is outside "
                        f"the volume '{self.volume_node.GetName()}'",
                        action_index=index,
                        field=field,
                    )

    def _setup_editor(self, context: SlicerContext) -> None:
        if self.editor_node is None:
            self.editor_node = context.scene.AddNewNodeByClass("vtkMRMLSegmentEditorNode")
            self._created.append(self.editor_node)
            self._owns_editor = True
        self.editor_node.SetAndObserveSegmentationNode(self.segmentation_node)
        self.editor_node.SetAndObserveSourceVolumeNode(self.volume_node)
        self.editor_node.SetSelectedSegmentID(self.segment_id)
        self._logic = AdaptiveBrushLogic(self.editor_node, context)
        self._logic.restore_parameters({})

    def _load_reference(self, context: SlicerContext) -> None:
        gold = self.recipe.gold_standard
        if gold is None:
            return
        source = self.recipe.resolve_path(gold.source)
        name = gold.segment or self.recipe.segment_name
        self.reference_array = load_reference_array(context, source, name, self.volume_node)

    def _start_store(self) -> None:
        shape = volume_array(self.volume_node).shape
        # Steps paint all over the volume and the store is the history (Slicer's undo,
        # which copies the whole labelmap per state, is not used): allocating the recipe's
        # segment once keeps every later step from reallocating it.
        allocate_segment_labelmap(self.segmentation_node, str(self.segment_id), self._matrix())
        if self._store is not None:
            self._store.clear()
        self._store = CheckpointStore(shape, str(self.segment_id), budget_bytes=self._budget)
        initial = {
            sid: read_segment_full(self.segmentation_node, sid, shape, self._matrix())
            for sid in segment_ids(self.segmentation_node)
        }
        self._store.start(initial, self._payload())
        self.current_step = -1

    def _remove_created(self) -> None:
        scene = self._context.scene if self._context is not None else None
        for node in reversed(self._created):
            if scene is not None and node is not None and scene.IsNodePresent(node):
                scene.RemoveNode(node)
        self._created = []
        self.volume_node = self.segmentation_node = None
        self.segment_id = None
        self.reference_array = None
        if self._owns_editor:
            # It was removed with the rest; a later setup() must create a new one.
            self.editor_node, self._owns_editor = None, False

    # Moving -----------------------------------------------------------------------------

    def step_forward(self) -> bool:
        """Run (or restore, when its checkpoint is kept) the next step; False at the end."""
        store = self._require_store()
        target = self.current_step + 1
        if target >= self.total_steps():
            return False
        if store.is_kept(target):
            self._restore(target)
            self._notify_step(target)
        else:
            self._execute(target)
        return True

    def step_backward(self) -> bool:
        """Go back one step (the scene and the effect's parameters); False at the start."""
        if self.current_step <= -1:
            return False
        return self.goto_step(self.current_step - 1)

    def goto_step(self, step_index: int) -> bool:
        """Bring the scene to the state after ``step_index`` (-1 = initial state).

        Backwards it restores the nearest kept checkpoint and re-executes what was thinned;
        forwards it restores kept checkpoints and executes the missing steps.
        """
        self._require_store()
        self._check_step(step_index)
        if step_index == self.current_step:
            return True
        self._move_to(step_index)
        return True

    def run_to_end(self) -> int:
        """Step forward until the end; returns the number of steps taken."""
        count = 0
        while self.step_forward():
            count += 1
        return count

    # Branching --------------------------------------------------------------------------

    def start_branch(self) -> None:
        """Continue by hand from the current step; manual actions are executed and recorded."""
        store = self._require_store()
        if self._branching:
            raise RunnerError("a branch is already being recorded; stop_branch() first")
        self._branch_point = self.current_step
        self._branch_actions = []
        self._branching = True
        store.truncate_after(self.current_step)
        logger.info("Branching from step %d of '%s'", self.current_step, self.recipe.name)

    def stop_branch(self) -> None:
        """Stop recording and return the scene to the branch point; save_branch() still works."""
        store = self._require_store()
        if not self._branching or self._branch_point is None:
            raise RunnerError("no branch is being recorded")
        if self.current_step != self._branch_point:
            self._move_to(self._branch_point)
        self._branching = False
        store.truncate_after(self._branch_point)

    def add_manual_action(self, action: RecipeAction) -> SegmentationCheckpoint:
        """Execute ``action`` on the scene as the next step of the branch and record it."""
        self._require_store()
        if not self._branching or self._branch_point is None:
            raise RunnerError("start_branch() before adding manual actions")
        action.validate()
        return self._append_branch_action(action, lambda: self._execute(self.current_step + 1))

    def _append_branch_action(
        self, action: RecipeAction, record: Callable[[], SegmentationCheckpoint]
    ) -> SegmentationCheckpoint:
        """Make ``action`` the branch's next step; ``record`` runs it and takes its checkpoint.
        On failure the branch is as it was."""
        assert self._branch_point is not None
        saved = (self._branch_point, list(self._branch_actions))
        if self.current_step < self._branch_point:
            # Rewound before the branch point: the branch now starts here.
            self._branch_point, self._branch_actions = self.current_step, []
        kept = self.current_step - self._branch_point
        self._branch_actions = self._branch_actions[:kept] + [action]
        try:
            return record()
        except BaseException:
            self._branch_point, self._branch_actions = saved
            raise

    # Stroke router: strokes painted by hand in this runner's editor -------------------------

    def takes_stroke(self, logic: AdaptiveBrushLogic) -> bool:
        """True for strokes in this runner's editor and segment: they become branch steps,
        so the scene never drifts from the checkpoints."""
        if self._store is None or logic.editor_node is not self.editor_node:
            return False
        if (
            self.editor_node.GetSegmentationNode() is not self.segmentation_node
            or self.editor_node.GetSourceVolumeNode() is not self.volume_node
        ):
            return False
        if self.editor_node.GetSelectedSegmentID() != self.segment_id:
            logger.warning(
                "A stroke in another segment than the recipe's '%s' is not recorded; "
                "rewinding will not undo it",
                self.recipe.segment_name,
            )
            return False
        return True

    def record_stroke(self, logic: AdaptiveBrushLogic, stroke: FinishedStroke) -> None:
        """Record an applied hand stroke as a manual action (starting a branch at the
        current step if none is being recorded), with every parameter changed since the
        current checkpoint and, for a 2D brush, its slice plane. The action is built and
        validated before anything changes, so a failure leaves the runner as it was."""
        store = self._require_store()
        checkpoint = store.get(self.current_step)
        before = checkpoint.payload["parameters"] if checkpoint is not None else {}
        now = self._payload()["parameters"]
        changed = {k: v for k, v in now.items() if before.get(k) != v}
        if now["brush_mode"] == "2d":
            # An action carries everything its replay needs: the plane of a 2D brush.
            plane = ("brush_mode", "slice_orientation", "slice_normal")
            changed.update({k: now[k] for k in plane if now[k] is not None})
        make = RecipeAction.erase if stroke.erase else RecipeAction.paint
        action = make(stroke.points[0], changed, path=list(stroke.points[1:]))
        if not self._branching:
            logger.info("A stroke painted by hand starts a branch at step %d", self.current_step)
            self.start_branch()
        self._append_branch_action(action, lambda: self._record(stroke))

    def _record(self, stroke: FinishedStroke) -> SegmentationCheckpoint:
        return self._commit(
            self.current_step + 1, stroke.box_start, stroke.box_stop, stroke.before, stroke.after
        )

    def save_branch(self, name: str | None = None) -> ActionRecipe:
        """A new recipe: the steps up to the branch point plus the manual actions."""
        if self._branch_point is None:
            raise RunnerError("no branch to save: start_branch() and add actions first")
        stamp = datetime.now(timezone.utc)
        actions = list(self.recipe.actions[: self._branch_point + 1]) + self._branch_actions
        metadata = {
            "created": stamp.isoformat(timespec="seconds"),
            "parent_recipe": self.recipe.name,
            "branch_step": self._branch_point,
        }
        return ActionRecipe(
            name=name or f"{self.recipe.name}_branch{self._branch_point}_{stamp:%Y%m%dT%H%M%S}",
            sample_data=self.recipe.sample_data,
            segment_name=self.recipe.segment_name,
            actions=[RecipeAction.from_dict(a.to_dict()) for a in actions],
            gold_standard=self.recipe.gold_standard,
            description=f"Branch of '{self.recipe.name}' at step {self._branch_point}",
            metadata=metadata,
            source_dir=self.recipe.source_dir,
        )

    # Internals --------------------------------------------------------------------------

    def _check_step(self, step_index: Any, allow_initial: bool = True) -> int:
        """``step_index`` if it names a step of the timeline, else TypeError / ValueError."""
        if isinstance(step_index, bool) or not isinstance(step_index, (int, np.integer)):
            raise TypeError(f"a step index is an integer, got {step_index!r}")
        first = -1 if allow_initial else 0
        if not first <= step_index < self.total_steps():
            raise ValueError(
                f"step {step_index} does not exist: valid steps are "
                f"{first}..{self.total_steps() - 1}"
            )
        return int(step_index)

    def _require_store(self) -> CheckpointStore:
        if self._store is None:
            raise RunnerError("call setup() first")
        return self._store

    def _require_logic(self) -> AdaptiveBrushLogic:
        if self._logic is None:
            raise RunnerError("call setup() first")
        return self._logic

    @property
    def context(self) -> SlicerContext:
        """Scene and logics the runner works in (after ``setup()``)."""
        if self._context is None:
            raise RunnerError("call setup() first")
        return self._context

    def volume_ijk_to_ras(self) -> np.ndarray:
        """The source volume's IJKToRAS matrix (4x4, mm)."""
        self._require_logic()
        return ijk_to_ras(self.volume_node)

    def _matrix(self) -> np.ndarray:
        return ijk_to_ras(self.volume_node)

    def _payload(self) -> dict[str, Any]:
        params = self._require_logic().parameters
        values = {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}
        return {"parameters": values}

    def _move_to(self, step_index: int) -> None:
        """Restore the nearest kept checkpoint at or before ``step_index``, then execute the
        steps after it; notifies the arrival step when no step was executed."""
        store = self._require_store()
        base = store.nearest_kept_at_or_before(step_index)
        if base != self.current_step:
            self._restore(base)
        while self.current_step < step_index:
            self._execute(self.current_step + 1)
        if base == step_index:
            self._notify_step(step_index)

    def _execute(self, step_index: int) -> SegmentationCheckpoint:
        logic = self._require_logic()
        action = self.timeline()[step_index]
        label = action.label(dict(logic.parameters))
        previous = dict(logic.parameters)
        started = time.perf_counter()
        try:
            box, before, after = self._run_action(action)
        except Exception as error:
            logic.restore_parameters(previous)
            raise StepError(step_index, label, error) from error
        except BaseException:
            logic.restore_parameters(previous)  # an interrupt: the scene is back too
            raise
        checkpoint = self._commit(step_index, box[0], box[1], before, after)
        logger.debug(
            "step %d (%s) in %.1f ms", step_index, label, (time.perf_counter() - started) * 1000
        )
        return checkpoint

    def _commit(
        self, step_index: int, box_start: Any, box_stop: Any, before: dict, after: dict
    ) -> SegmentationCheckpoint:
        """Take the checkpoint of a step just applied to the scene and move to it."""
        store = self._require_store()
        store.truncate_after(step_index - 1)
        checkpoint = store.record(step_index, box_start, box_stop, before, after, self._payload())
        self.current_step = step_index
        self._notify_checkpoint(checkpoint)
        self._notify_step(step_index)
        return checkpoint

    def _run_action(self, action: RecipeAction) -> tuple[Any, dict, dict]:
        logic = self._require_logic()
        # Recipe actions edit the recipe's segment, whatever the user selected meanwhile.
        self.editor_node.SetSelectedSegmentID(self.segment_id)
        if action.params:
            logic.set_parameters(action.params)
        if action.type in ("set_param", "set_algorithm"):
            return ((0, 0, 0), (0, 0, 0)), {}, {}
        assert action.ras is not None
        # Point by point, like a hand stroke, so a long drag never holds every point's
        # result at once; a failing point takes the whole stroke back.
        stroke = LiveStroke(logic, erase=action.type == "erase", route=False)
        stroke.add_points([action.ras, *action.path])
        done = stroke.finish()
        assert done is not None
        return (done.box_start, done.box_stop), done.before, done.after

    def _restore(self, step_index: int) -> None:
        """Bring the scene from ``current_step`` to the kept checkpoint ``step_index``."""
        store, logic = self._require_store(), self._require_logic()
        flip_segments_boxes(
            logic.editor_logic,
            self.segmentation_node,
            [(change.box_start, change.xor) for change in self._changes_to(step_index)],
            self._matrix(),
        )
        checkpoint = store.get(step_index)
        assert checkpoint is not None
        logic.restore_parameters(checkpoint.payload["parameters"])
        self.current_step = step_index

    def _changes_to(self, step_index: int) -> list[Change]:
        """XOR boxes from ``current_step`` to ``step_index``, one kept step at a time.

        Asking the store for the whole span at once merges its boxes first, which costs
        more than it saves now that each box is flipped in one pass (far jumps spent ~90 %
        of their time merging); XOR-ing the steps' boxes one after the other is as exact.
        """
        store = self._require_store()
        low, high = sorted((self.current_step, step_index))
        kept = [cp.step_index for cp in store.checkpoints if low <= cp.step_index <= high]
        if not kept or kept[0] != low or kept[-1] != high:
            # an end that is not kept: the store's own call says why
            return store.changes_between(self.current_step, step_index)
        changes: list[Change] = []
        for earlier, later in zip(kept[:-1], kept[1:], strict=True):
            changes.extend(store.changes_between(earlier, later))
        return changes

    def _notify_step(self, step_index: int) -> None:
        if self._step_callback is None:
            return
        actions = self.timeline()
        action = actions[step_index] if 0 <= step_index < len(actions) else None
        try:
            self._step_callback(step_index, action)
        except Exception:
            logger.exception("step callback raised at step %d; the runner goes on", step_index)

    def _notify_checkpoint(self, checkpoint: SegmentationCheckpoint) -> None:
        if self._checkpoint_callback is None:
            return
        try:
            self._checkpoint_callback(checkpoint)
        except Exception:
            logger.exception(
                "checkpoint callback raised at step %d; the runner goes on", checkpoint.step_index
            )


__all__ = ["RunnerError", "StepError", "SteppingRecipeRunner"]
