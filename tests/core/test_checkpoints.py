"""Checkpoint store: exact reconstruction, XOR changes, truncation, budget and memory."""

from __future__ import annotations

import logging
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from SegmentEditorAdaptiveBrushTesterLib.core import checkpoints
from SegmentEditorAdaptiveBrushTesterLib.core.checkpoints import (
    CheckpointDataError,
    CheckpointNotKeptError,
    CheckpointOrderError,
    CheckpointStore,
    CheckpointStoreEmptyError,
)

Index3 = tuple[int, int, int]
State = dict[str, np.ndarray]

SMALL = (12, 20, 24)
SMALL_CHUNK = (4, 8, 8)


class Timeline:
    """Reference that keeps a full copy of every state, indexed by step + 1."""

    def __init__(self, initial: State) -> None:
        self.states = [{seg: mask.copy() for seg, mask in initial.items()}]

    def state(self, step: int) -> State:
        return self.states[step + 1]

    def apply(self, start: Index3, after: State) -> tuple[State, State]:
        """Next state with ``after`` written into its box; returns (before, after) boxes."""
        current = self.states[-1]
        shape = next(iter(after.values())).shape
        box = tuple(slice(a, a + n) for a, n in zip(start, shape, strict=True))
        before = {seg: current[seg][box].copy() for seg in after if seg in current}
        following = {seg: mask.copy() for seg, mask in current.items()}
        for seg, values in after.items():
            following.setdefault(seg, np.zeros_like(next(iter(current.values()))))
            following[seg][box] = values
        self.states.append(following)
        return before, after

    def truncate_after(self, step: int) -> None:
        del self.states[step + 2 :]


def random_box(rng: np.random.Generator, shape: Index3) -> tuple[Index3, Index3]:
    start = tuple(int(rng.integers(0, n)) for n in shape)
    stop = tuple(int(rng.integers(a + 1, n + 1)) for a, n in zip(start, shape, strict=True))
    return start, stop  # type: ignore[return-value]


def random_contents(rng: np.random.Generator, shape: Index3) -> np.ndarray:
    """Noise, all-on, all-off or a blob: steps that grow, clear, or change little."""
    kind = rng.integers(4)
    if kind == 0:
        return rng.random(shape) < 0.3
    if kind == 1:
        return np.ones(shape, dtype=bool)
    if kind == 2:
        return np.zeros(shape, dtype=bool)
    grids = np.indices(shape)
    centre = [rng.integers(0, n) for n in shape]
    return sum((g - c) ** 2 for g, c in zip(grids, centre, strict=True)) <= 4


def record_random(
    store: CheckpointStore,
    timeline: Timeline,
    rng: np.random.Generator,
    segments: list[str],
) -> None:
    start, stop = random_box(rng, store.shape)
    shape = tuple(b - a for a, b in zip(start, stop, strict=True))
    after = {seg: random_contents(rng, shape) for seg in segments}  # type: ignore[arg-type]
    before, after = timeline.apply(start, after)
    store.record(store.last_step + 1, start, stop, before, after, {"step": store.last_step + 1})


def assert_same_state(actual: State, expected: State) -> None:
    assert set(actual) == set(expected)
    for seg, mask in expected.items():
        assert actual[seg].dtype == np.bool_
        np.testing.assert_array_equal(actual[seg], mask, err_msg=seg)


def apply_changes(state: State, changes: list[checkpoints.Change]) -> State:
    shape = next(iter(state.values())).shape
    result = {seg: mask.copy() for seg, mask in state.items()}
    for change in changes:
        for seg, xor in change.xor.items():
            result.setdefault(seg, np.zeros(shape, dtype=bool))[change.slices] ^= xor
    return result


def pad_segments(state: State, segments: set[str], shape: Index3) -> State:
    return {seg: state.get(seg, np.zeros(shape, dtype=bool)) for seg in segments}


def built(
    steps: int,
    segments: tuple[str, ...] = ("a", "b"),
    seed: int = 0,
    **options: object,
) -> tuple[CheckpointStore, Timeline]:
    rng = np.random.default_rng(seed)
    options = {"chunk_shape": SMALL_CHUNK, "keyframe_interval": 5, **options}
    store = CheckpointStore(SMALL, segments[0], **options)  # type: ignore[arg-type]
    initial = {seg: rng.random(SMALL) < 0.05 for seg in segments}
    timeline = Timeline(initial)
    store.start(initial, {"step": -1})
    for _ in range(steps):
        chosen = list(rng.choice(segments, size=rng.integers(1, len(segments) + 1), replace=False))
        record_random(store, timeline, rng, chosen)
    return store, timeline


def ball(shape: Index3, centre: Index3, radii: tuple[float, float, float]) -> Index3Box:
    """Box of an ellipsoid (clipped to the volume) and its mask over that box."""
    start = tuple(max(0, int(c - r)) for c, r in zip(centre, radii, strict=True))
    stop = tuple(min(n, int(c + r) + 1) for c, r, n in zip(centre, radii, shape, strict=True))
    grids = np.ogrid[tuple(slice(a, b) for a, b in zip(start, stop, strict=True))]
    inside = sum(((g - c) / r) ** 2 for g, c, r in zip(grids, centre, radii, strict=True)) <= 1
    return start, stop, inside  # type: ignore[return-value]


Index3Box = tuple[Index3, Index3, np.ndarray]


# ---------------------------------------------------------------- reconstruction


def test_every_step_reconstructs_exactly() -> None:
    store, timeline = built(40)

    assert [cp.step_index for cp in store.checkpoints] == list(range(-1, 40))
    for checkpoint in store.checkpoints:
        expected = timeline.state(checkpoint.step_index)
        assert_same_state(store.state_at(checkpoint.step_index), expected)
        assert_same_state(checkpoint.segment_arrays(), expected)
        labelmap = checkpoint.labelmap_array
        assert labelmap.dtype == np.uint8 and labelmap.shape == SMALL
        np.testing.assert_array_equal(labelmap, expected["a"].astype(np.uint8))


def test_changes_between_forwards_and_backwards_equal_direct_xor() -> None:
    store, timeline = built(25, seed=1)

    for low in range(-1, 25, 3):
        for high in range(low, 25, 4):
            for source, target in ((low, high), (high, low)):
                changes = store.changes_between(source, target)
                result = apply_changes(timeline.state(source), changes)
                assert_same_state(result, timeline.state(target))
                for change in changes:
                    box = change.slices
                    for seg, xor in change.xor.items():
                        direct = timeline.state(source)[seg] ^ timeline.state(target)[seg]
                        assert xor.any(), "segments that do not change are left out"
                        np.testing.assert_array_equal(xor & ~direct[box], False)


def test_changes_between_equal_steps_and_cancelling_steps_are_empty() -> None:
    store = CheckpointStore(SMALL, "a")
    store.start({"a": np.zeros(SMALL, dtype=bool)})
    on = np.ones((2, 3, 4), dtype=bool)
    off = np.zeros_like(on)
    store.record(0, (1, 1, 1), (3, 4, 5), {"a": off}, {"a": on})
    store.record(1, (1, 1, 1), (3, 4, 5), {"a": on}, {"a": off})

    assert store.changes_between(0, 0) == []
    assert store.changes_between(-1, 1) == []
    assert len(store.changes_between(-1, 0)) == 1


def test_changes_merge_nearby_boxes_and_keep_far_ones_apart() -> None:
    shape = (40, 40, 40)
    store = CheckpointStore(shape, "a")
    store.start({})
    cube = np.ones((4, 4, 4), dtype=bool)
    none = np.zeros_like(cube)
    for step, corner in enumerate([(0, 0, 0), (0, 0, 4), (36, 36, 36)]):
        stop = tuple(c + 4 for c in corner)
        store.record(step, corner, stop, {"a": none}, {"a": cube})

    changes = store.changes_between(-1, 2)

    assert [(c.box_start, c.box_stop) for c in changes] == [
        ((0, 0, 0), (4, 4, 8)),
        ((36, 36, 36), (40, 40, 40)),
    ]


def test_changed_box_is_cropped_to_flipped_voxels() -> None:
    store = CheckpointStore(SMALL, "a")
    store.start({"a": np.zeros(SMALL, dtype=bool)})
    after = np.zeros((10, 10, 10), dtype=bool)
    after[3:5, 4, 2:7] = True

    checkpoint = store.record(0, (1, 2, 3), (11, 12, 13), {"a": np.zeros_like(after)}, {"a": after})

    assert checkpoint.box == ((4, 6, 5), (6, 7, 10))
    (change,) = store.changes_between(0, -1)
    assert (change.box_start, change.box_stop) == checkpoint.box


# ------------------------------------------------------------ recording rules


def test_truncate_then_record_a_different_future() -> None:
    store, timeline = built(10, seed=2)
    dropped = store.get(7)
    assert dropped is not None

    store.truncate_after(4)
    timeline.truncate_after(4)
    rng = np.random.default_rng(9)
    for _ in range(3):
        record_random(store, timeline, rng, ["b"])

    assert store.last_step == 7
    assert [cp.step_index for cp in store.checkpoints] == list(range(-1, 8))
    for step in range(-1, 8):
        assert_same_state(store.state_at(step), timeline.state(step))
    assert store.get(7) is not dropped
    with pytest.raises(CheckpointNotKeptError):
        dropped.labelmap_array  # noqa: B018 - the property is what is tested
    assert dropped.size_bytes() == 0


def test_truncating_a_run_of_keyframes_keeps_the_byte_count() -> None:
    store, _ = built(6, keyframe_interval=1)

    store.truncate_after(1)

    assert store.stats()["bytes_held"] == sum(cp.size_bytes() for cp in store.checkpoints)


def test_record_with_wrong_step_index_raises() -> None:
    store, _ = built(3)

    for wrong in (-1, 0, 2, 5):
        with pytest.raises(CheckpointOrderError, match="next must be 3"):
            store.record(wrong, (0, 0, 0), (0, 0, 0), {}, {})
    assert isinstance(CheckpointOrderError("x"), ValueError)
    assert store.last_step == 2


def test_new_segment_appears_mid_way() -> None:
    store = CheckpointStore(SMALL, "a", chunk_shape=SMALL_CHUNK, keyframe_interval=2)
    initial = {"a": np.zeros(SMALL, dtype=bool)}
    timeline = Timeline(initial)
    store.start(initial)
    rng = np.random.default_rng(3)
    for step in range(6):
        record_random(store, timeline, rng, ["a", "new"] if step >= 2 else ["a"])

    assert store.get(1).segment_ids == ("a",)  # type: ignore[union-attr]
    assert store.get(2).segment_ids == ("a", "new")  # type: ignore[union-attr]
    for step in range(-1, 6):
        assert_same_state(store.state_at(step), timeline.state(step))
    back = apply_changes(
        pad_segments(timeline.state(5), {"a", "new"}, SMALL), store.changes_between(5, 0)
    )
    assert_same_state(back, pad_segments(timeline.state(0), {"a", "new"}, SMALL))
    assert store.stats()["segments"] == 2


def test_one_box_changes_several_segments() -> None:
    store = CheckpointStore(SMALL, "a")
    region = (slice(2, 6), slice(2, 8), slice(2, 10))
    first = np.zeros(SMALL, dtype=bool)
    first[region] = True
    store.start({"a": np.zeros(SMALL, dtype=bool), "b": first})
    # "overwrite other segments": what a gains inside the box, b loses
    gain = np.zeros((6, 10, 12), dtype=bool)
    gain[1:4, 1:5, 1:6] = True
    before = {"a": np.zeros_like(gain), "b": first[0:6, 0:10, 0:12]}
    after = {"a": gain, "b": before["b"] & ~gain}

    checkpoint = store.record(0, (0, 0, 0), (6, 10, 12), before, after)

    (change,) = store.changes_between(-1, 0)
    assert set(change.xor) == {"a", "b"}
    state = store.state_at(0)
    np.testing.assert_array_equal(state["a"][0:6, 0:10, 0:12], gain)
    assert not (state["a"] & state["b"]).any()
    assert checkpoint.box == ((1, 1, 1), (4, 5, 6))


def test_segment_missing_from_after_is_cleared_in_the_box() -> None:
    store = CheckpointStore(SMALL, "a")
    full = np.ones(SMALL, dtype=bool)
    store.start({"a": full})

    store.record(0, (0, 0, 0), (2, 2, 2), {"a": np.ones((2, 2, 2), dtype=bool)}, {})

    state = store.state_at(0)["a"]
    assert not state[0:2, 0:2, 0:2].any() and state.sum() == full.sum() - 8


def test_step_that_changes_nothing_still_gets_a_tiny_checkpoint() -> None:
    store, _ = built(2)
    box = (slice(1, 3), slice(1, 3), slice(1, 3))
    unchanged = {seg: mask[box] for seg, mask in store.state_at(1).items()}

    empty = store.record(2, (1, 1, 1), (3, 3, 3), unchanged, unchanged, {"note": "no-op"})
    setting = store.record(3, (0, 0, 0), (0, 0, 0), {}, {}, {"note": "set_param"})

    for checkpoint in (empty, setting):
        assert store.is_kept(checkpoint.step_index)
        assert checkpoint.box is None and not checkpoint.is_keyframe
        assert checkpoint.size_bytes() < 1024
    assert store.changes_between(1, 3) == []


def test_nonzero_label_values_count_as_inside() -> None:
    store = CheckpointStore(SMALL, "a")
    labels = np.zeros(SMALL, dtype=np.uint8)
    labels[3, 4, 5] = 7
    store.start({"a": labels})

    np.testing.assert_array_equal(store.state_at(-1)["a"], labels != 0)


def test_payload_is_copied_and_kept() -> None:
    store = CheckpointStore(SMALL, "a")
    radii = [10.0]
    payload = {"parameters": {"algorithm": "watershed", "radius": radii}}
    checkpoint = store.start({}, payload)

    radii.append(5.0)

    assert checkpoint.payload == {"parameters": {"algorithm": "watershed", "radius": [10.0]}}
    assert checkpoint.step_index == -1 and checkpoint.primary_segment_id == "a"
    assert checkpoint.timestamp > 0


# ---------------------------------------------------------------- bad input


def test_bad_input_raises_clear_errors() -> None:
    store = CheckpointStore(SMALL, "a")
    with pytest.raises(CheckpointStoreEmptyError, match="start"):
        store.last_step  # noqa: B018 - the property is what is tested
    with pytest.raises(CheckpointDataError, match="initial"):
        store.start({"a": np.zeros((2, 2, 2), dtype=bool)})
    store.start({})
    with pytest.raises(CheckpointDataError, match="inside the volume"):
        store.record(0, (0, 0, 0), (13, 1, 1), {}, {})
    with pytest.raises(CheckpointDataError, match=r"after\['a'\]"):
        store.record(0, (0, 0, 0), (2, 2, 2), {}, {"a": np.zeros((2, 2, 3), dtype=bool)})
    with pytest.raises(CheckpointNotKeptError, match="step 4"):
        store.state_at(4)
    with pytest.raises(CheckpointNotKeptError):
        store.changes_between(-1, 0)
    with pytest.raises(CheckpointDataError):
        store.truncate_after(-2)
    with pytest.raises(CheckpointDataError):
        CheckpointStore((0, 4, 4), "a")
    with pytest.raises(CheckpointDataError):
        CheckpointStore(SMALL, "a", keyframe_interval=0)


def test_start_again_forgets_the_old_timeline_but_a_bad_start_keeps_it() -> None:
    store, timeline = built(5, budget_bytes=1)

    with pytest.raises(CheckpointDataError):
        store.start({"a": np.zeros((1, 1, 1), dtype=bool)})
    assert store.last_step == 4
    assert_same_state(store.state_at(4), timeline.state(4))

    store.start({"b": np.ones(SMALL, dtype=bool)})
    assert store.last_step == -1 and store.stats()["thinned"] == 0
    assert store.get(-1).segment_ids == ("b", "a")  # type: ignore[union-attr]


def test_clear_frees_everything() -> None:
    store, _ = built(5)
    handed_out = store.get(3)
    assert handed_out is not None

    store.clear()

    assert store.checkpoints == [] and store.stats()["bytes_held"] == 0
    assert store.stats()["count"] == 0 and store.stats()["ratio"] == 0.0
    with pytest.raises(CheckpointNotKeptError, match="dropped"):
        handed_out.segment_arrays()
    with pytest.raises(CheckpointStoreEmptyError):
        store.nearest_kept_at_or_before(3)


# ------------------------------------------------------------ keyframes, bytes


def test_keyframes_every_interval_and_restores_from_either_side() -> None:
    store, timeline = built(12, keyframe_interval=4)

    keyframes = [cp.step_index for cp in store.checkpoints if cp.is_keyframe]
    assert keyframes == [-1, 3, 7, 11]
    # just before a keyframe, replaying one diff backwards beats replaying three forwards
    keyframe, patches = store._restore_plan(6)
    assert keyframe is store.get(7)._keyframe  # type: ignore[union-attr]
    assert len(patches) == len(store.get(7)._patches)  # type: ignore[union-attr]
    assert_same_state(store.state_at(6), timeline.state(6))


def test_keyframe_when_diff_bytes_outgrow_the_last_keyframe() -> None:
    shape = (16, 64, 64)  # noise diffs of 8 KB: two of them pass KEYFRAME_MIN_DIFF_BYTES
    store = CheckpointStore(shape, "a", keyframe_interval=1000)
    store.start({})
    rng = np.random.default_rng(4)
    previous = np.zeros(shape, dtype=bool)
    for step in range(4):
        noise = rng.random(shape) < 0.5
        store.record(step, (0, 0, 0), shape, {"a": previous}, {"a": noise})
        previous = noise

    assert [cp.is_keyframe for cp in store.checkpoints] == [True, False, True, False, True]
    np.testing.assert_array_equal(store.state_at(3)["a"], previous)


def test_keyframes_share_chunks_no_step_touched() -> None:
    shape = (16, 16, 16)
    initial = np.random.default_rng(5).random(shape) < 0.5
    store = CheckpointStore(shape, "a", keyframe_interval=1, chunk_shape=(8, 8, 8))
    store.start({"a": initial})
    after = ~initial[0:2, 0:2, 0:2]

    checkpoint = store.record(0, (0, 0, 0), (2, 2, 2), {"a": initial[0:2, 0:2, 0:2]}, {"a": after})

    initial_checkpoint = store.get(-1)
    assert initial_checkpoint is not None
    assert initial_checkpoint._keyframe is not None and checkpoint._keyframe is not None
    first, second = initial_checkpoint._keyframe["a"], checkpoint._keyframe["a"]
    assert checkpoint.is_keyframe and len(first) == len(second) == 8
    assert sum(second[key] is first[key] for key in first) == 7
    own = checkpoint.size_bytes() - checkpoint._diff_bytes() - checkpoint._payload_bytes
    own -= checkpoints.CHECKPOINT_OVERHEAD_BYTES
    slots = checkpoints.CHUNK_SLOT_BYTES * len(second)
    assert own == len(second[(0, 0, 0)]) + checkpoints.BLOB_OVERHEAD_BYTES + slots


def test_size_bytes_and_stats_add_up() -> None:
    store, _ = built(30, segments=("a", "b", "c"))

    stats = store.stats()
    kept = store.checkpoints
    voxels = SMALL[0] * SMALL[1] * SMALL[2]
    assert stats["count"] == len(kept) == 31
    assert stats["bytes_held"] == sum(cp.size_bytes() for cp in kept)
    assert stats["full_copy_bytes"] == sum(len(cp.segment_ids) for cp in kept) * voxels
    assert stats["ratio"] == pytest.approx(stats["bytes_held"] / stats["full_copy_bytes"])
    assert stats["keyframes"] == sum(cp.is_keyframe for cp in kept)
    assert stats["budget_bytes"] == checkpoints.DEFAULT_BUDGET_BYTES
    assert stats["thinned"] == 0 and stats["segments"] == 3
    for checkpoint in kept[1:]:
        if not checkpoint.is_keyframe:
            patches = sum(p.nbytes() for p in checkpoint._patches)
            fixed = checkpoints.CHECKPOINT_OVERHEAD_BYTES + checkpoint._payload_bytes
            assert checkpoint.size_bytes() == patches + fixed


# --------------------------------------------------------------------- budget


def test_tiny_budget_thins_to_the_ends_and_stays_exact(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger=checkpoints.__name__):
        store, timeline = built(20, budget_bytes=1)

    assert [cp.step_index for cp in store.checkpoints] == [-1, 19]
    assert store.stats()["thinned"] == 19 and store.stats()["keyframes"] == 1
    assert [r.levelname for r in caplog.records] == ["WARNING"]  # once, not per step
    assert "over the budget" in caplog.text
    assert not store.is_kept(10) and store.nearest_kept_at_or_before(10) == -1
    assert_same_state(store.state_at(19), timeline.state(19))
    assert_same_state(
        apply_changes(timeline.state(19), store.changes_between(19, -1)), timeline.state(-1)
    )


def test_budget_drops_keyframes_first_then_thins_evenly() -> None:
    unlimited, _ = built(40, keyframe_interval=5)
    budget = unlimited.stats()["bytes_held"] // 2

    store, timeline = built(40, keyframe_interval=5, budget_bytes=budget)

    kept = [cp.step_index for cp in store.checkpoints]
    assert store.stats()["bytes_held"] <= budget
    assert kept[0] == -1 and kept[-1] == 39 and 2 < len(kept) < 41
    assert [cp.step_index for cp in store.checkpoints if cp.is_keyframe] == [-1]
    assert max(np.diff(kept)) <= 2 * min(np.diff(kept)) + 2  # thinned evenly, not a hole
    for step in kept:
        assert_same_state(store.state_at(step), timeline.state(step))
    assert store.stats()["thinned"] == 41 - len(kept)


# ------------------------------------------------------------ memory, layering


def test_store_module_imports_no_slicer_vtk_or_qt() -> None:
    code = (
        "import sys, SegmentEditorAdaptiveBrushTesterLib.core.checkpoints\n"
        "print(sorted(m for m in ('slicer', 'vtk', 'qt') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_hundred_sparse_strokes_hold_under_half_a_percent_of_full_copies() -> None:
    shape = (64, 256, 256)
    rng = np.random.default_rng(6)
    volume = np.zeros(shape, dtype=bool)
    store = CheckpointStore(shape, "a")
    store.start({"a": volume})
    for step in range(100):
        centre = tuple(int(rng.integers(0, n)) for n in shape)
        start, stop, inside = ball(shape, centre, (6.0, 10.0, 10.0))  # type: ignore[arg-type]
        box = tuple(slice(a, b) for a, b in zip(start, stop, strict=True))
        before = volume[box].copy()
        volume[box] |= inside
        store.record(step, start, stop, {"a": before}, {"a": volume[box]}, {"step": step})

    stats = store.stats()
    assert stats["count"] == 101 and stats["thinned"] == 0
    assert stats["bytes_held"] < 0.005 * stats["full_copy_bytes"]
    np.testing.assert_array_equal(store.state_at(99)["a"], volume)


# ------------------------------------------------------------------- property


class StoreAgainstFullCopies(RuleBasedStateMachine):
    """Random record / truncate / restore sequences against a store of full copies."""

    shape = (6, 10, 12)
    pool = ("a", "b", "c")

    @initialize(
        budget=st.sampled_from([1, 6000, 10**9]),
        interval=st.integers(1, 5),
        chunk=st.sampled_from([(2, 3, 4), (3, 5, 5), (16, 32, 32)]),
        seed=st.integers(0, 2**32 - 1),
    )
    def start(self, budget: int, interval: int, chunk: Index3, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.store = CheckpointStore(
            self.shape, "a", budget_bytes=budget, keyframe_interval=interval, chunk_shape=chunk
        )
        initial = {"a": self.rng.random(self.shape) < 0.2}
        self.timeline = Timeline(initial)
        self.store.start(initial, {"step": -1})

    @rule(count=st.integers(1, 3))
    def record(self, count: int) -> None:
        segments = list(self.rng.choice(self.pool, size=count, replace=False))
        record_random(self.store, self.timeline, self.rng, segments)

    @rule(data=st.data())
    def truncate(self, data: st.DataObject) -> None:
        step = data.draw(st.integers(-1, self.store.last_step))
        self.store.truncate_after(step)
        self.timeline.truncate_after(self.store.last_step)
        assert self.store.last_step == self.store.nearest_kept_at_or_before(step)

    @rule(data=st.data())
    def restore(self, data: st.DataObject) -> None:
        step = data.draw(st.integers(-1, self.store.last_step))
        if not self.store.is_kept(step):
            with pytest.raises(CheckpointNotKeptError):
                self.store.state_at(step)
            return
        assert_same_state(self.store.state_at(step), self.timeline.state(step))

    @rule(data=st.data())
    def changes(self, data: st.DataObject) -> None:
        kept = [cp.step_index for cp in self.store.checkpoints]
        source, target = data.draw(st.sampled_from(kept)), data.draw(st.sampled_from(kept))
        segments = set(self.timeline.state(source)) | set(self.timeline.state(target))
        start = pad_segments(self.timeline.state(source), segments, self.shape)
        result = apply_changes(start, self.store.changes_between(source, target))
        assert_same_state(result, pad_segments(self.timeline.state(target), segments, self.shape))

    @invariant()
    def bookkeeping_adds_up(self) -> None:
        kept = self.store.checkpoints
        assert kept[0].step_index == -1 and kept[0].is_keyframe
        assert kept[-1].step_index == len(self.timeline.states) - 2
        assert self.store.stats()["bytes_held"] == sum(cp.size_bytes() for cp in kept)


StoreAgainstFullCopies.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_store_against_full_copies = StoreAgainstFullCopies.TestCase
