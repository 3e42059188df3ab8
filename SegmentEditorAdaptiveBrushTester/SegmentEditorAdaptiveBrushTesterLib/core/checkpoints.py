"""Checkpoint store for the stepping runner: compressed XOR diffs plus sparse keyframes.

The segmentation state at a step is a mapping ``segment_id -> bool array`` of the volume's
shape, in (k, j, i) order; a segment missing from a mapping is all-False. A step changes
voxels only inside a box, so each checkpoint keeps, per changed segment, the XOR of the box
before and after the step, bit-packed and zlib-compressed. Keyframes keep the whole state,
bit-packed and compressed per chunk; empty chunks are not stored and chunks no step touched
are shared with the previous keyframe. No dense copy of the volume is ever kept: dense
arrays exist only while a state is reconstructed for a caller.

This module is pure Python and numpy (no slicer, vtk or qt). See docs/checkpoints.md for
the design, the keyframe and memory-budget policies and measured costs.
"""

from __future__ import annotations

import bisect
import copy
import json
import logging
import time
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

DEFAULT_BUDGET_BYTES = 64 * 1024 * 1024
"""Memory budget of a store (bytes held, as reported by ``stats()['bytes_held']``)."""

DEFAULT_KEYFRAME_INTERVAL = 20
"""A keyframe is taken at the latest after this many steps since the previous one."""

DEFAULT_CHUNK_SHAPE = (16, 32, 32)
"""(k, j, i) voxels per keyframe chunk: small enough that a stroke touches few chunks."""

KEYFRAME_MIN_DIFF_BYTES = 16 * 1024
"""Diff bytes since the last keyframe below which no size-triggered keyframe is taken.

Replaying this little is cheaper than building a keyframe, even when the last keyframe is
tiny (an empty segmentation has a keyframe of zero bytes)."""

ZLIB_LEVEL = 1
"""Level 1 compresses bit-packed masks nearly as well as level 9 at a fraction of the time."""

MERGE_SLACK = 1.25
"""Two boxes are merged when their union holds at most this times their summed voxels..."""

MERGE_EXTRA_VOXELS = 4096
"""...or at most this many voxels more: a few extra voxels cost less than another write."""

CHECKPOINT_OVERHEAD_BYTES = 512
"""Python bookkeeping per checkpoint (measured with tracemalloc), counted against the budget
so that even steps that change nothing cannot grow memory without bound. The payload is
counted on top, as twice its JSON length (its dicts and strings)."""

PATCH_OVERHEAD_BYTES = 320
"""Python bookkeeping per diff patch (its box, object and dict), measured."""

BLOB_OVERHEAD_BYTES = 128
"""Python overhead per compressed blob (bytes object, key and dict slot), measured."""

CHUNK_SLOT_BYTES = 32
"""Dict slot per chunk of a keyframe, shared chunk or not: each keyframe has its own dict."""

Index3 = tuple[int, int, int]


class CheckpointError(Exception):
    """Base class of the errors the checkpoint store raises on purpose."""


class CheckpointOrderError(CheckpointError, ValueError):
    """A step was recorded out of order (not exactly the last recorded step + 1)."""


class CheckpointDataError(CheckpointError, ValueError):
    """An array, box or shape handed to the store does not fit the volume."""


class CheckpointNotKeptError(CheckpointError, LookupError):
    """The requested step has no kept checkpoint (never recorded, truncated or thinned)."""


class CheckpointStoreEmptyError(CheckpointError, RuntimeError):
    """The store holds nothing yet: ``start()`` must be called first."""


# --------------------------------------------------------------------------- boxes


@dataclass(frozen=True, slots=True)
class _Box:
    """Half-open voxel box: ``start`` inclusive, ``stop`` exclusive, both (k, j, i)."""

    start: Index3
    stop: Index3

    @property
    def shape(self) -> Index3:
        return _index3(b - a for a, b in zip(self.start, self.stop, strict=True))

    @property
    def size(self) -> int:
        shape = self.shape
        return shape[0] * shape[1] * shape[2]

    @property
    def slices(self) -> tuple[slice, slice, slice]:
        return _slices3(self.start, self.stop)

    def relative_slices(self, outer: _Box) -> tuple[slice, slice, slice]:
        """Slices of this box inside an array that covers ``outer``."""
        start = _index3(a - o for a, o in zip(self.start, outer.start, strict=True))
        stop = _index3(b - o for b, o in zip(self.stop, outer.start, strict=True))
        return _slices3(start, stop)

    def intersection(self, other: _Box) -> _Box | None:
        start = _index3(max(a, b) for a, b in zip(self.start, other.start, strict=True))
        stop = _index3(min(a, b) for a, b in zip(self.stop, other.stop, strict=True))
        if any(lo >= hi for lo, hi in zip(start, stop, strict=True)):
            return None
        return _Box(start, stop)

    def union(self, other: _Box) -> _Box:
        start = _index3(min(a, b) for a, b in zip(self.start, other.start, strict=True))
        stop = _index3(max(a, b) for a, b in zip(self.stop, other.stop, strict=True))
        return _Box(start, stop)


def _index3(values: Iterable[Any]) -> Index3:
    k, j, i = (int(v) for v in values)
    return (k, j, i)


def _slices3(start: Index3, stop: Index3) -> tuple[slice, slice, slice]:
    return (slice(start[0], stop[0]), slice(start[1], stop[1]), slice(start[2], stop[2]))


def _nonzero_box(mask: np.ndarray) -> _Box | None:
    """Tightest box (relative to the array) around the True voxels of a (k, j, i) array."""
    bounds = []
    for axis in range(3):
        others = tuple(a for a in range(3) if a != axis)
        hits = np.flatnonzero(mask.any(axis=others))
        if hits.size == 0:
            return None
        bounds.append((int(hits[0]), int(hits[-1]) + 1))
    return _Box(_index3(b[0] for b in bounds), _index3(b[1] for b in bounds))


@dataclass(frozen=True, slots=True)
class _Cluster:
    """Boxes written as one: their union box, their indices, and their summed voxels."""

    box: _Box
    members: tuple[int, ...]
    work: int

    def merged_with(self, other: _Cluster) -> _Cluster | None:
        """The merged cluster when one write of the union beats two writes, else None.

        Compares the union against the voxels of the member boxes (not the cluster boxes),
        so a chain of merges cannot grow a box far beyond the voxels it really covers.
        """
        union = self.box.union(other.box)
        work = self.work + other.work
        if union.size > max(MERGE_SLACK * work, work + MERGE_EXTRA_VOXELS):
            return None
        return _Cluster(union, self.members + other.members, work)


def _cluster_boxes(boxes: Sequence[_Box]) -> list[_Cluster]:
    """Group boxes into clusters, ordered by box start (cluster boxes may overlap)."""
    clusters: list[_Cluster] = []
    for index, box in enumerate(boxes):
        current = _Cluster(box, (index,), box.size)
        position = 0
        while position < len(clusters):
            merged = current.merged_with(clusters[position])
            if merged is None:
                position += 1
            else:
                # the grown box may now absorb clusters it skipped: look at all again
                del clusters[position]
                current, position = merged, 0
        clusters.append(current)
    return sorted(clusters, key=lambda cluster: cluster.box.start)


# ------------------------------------------------------------------ bit packing


def _encode(mask: np.ndarray) -> bytes:
    """Bit-pack a bool array (C order) and compress it."""
    return zlib.compress(np.packbits(mask, axis=None).tobytes(), ZLIB_LEVEL)


def _decode(blob: bytes, shape: Index3) -> np.ndarray:
    """Inverse of ``_encode``: a new, writable bool array of ``shape``."""
    count = shape[0] * shape[1] * shape[2]
    packed = np.frombuffer(zlib.decompress(blob), dtype=np.uint8)
    return np.unpackbits(packed, count=count).view(bool).reshape(shape)


@dataclass(frozen=True, slots=True)
class _Patch:
    """XOR of one box, per segment that changed in it (segments absent: no change)."""

    box: _Box
    bits: Mapping[str, bytes]

    def nbytes(self) -> int:
        blobs = sum(len(blob) + BLOB_OVERHEAD_BYTES for blob in self.bits.values())
        return PATCH_OVERHEAD_BYTES + blobs

    def decode(self, segment_id: str) -> np.ndarray:
        return _decode(self.bits[segment_id], self.box.shape)


def _patch_from_xors(box: _Box, xors: Mapping[str, np.ndarray]) -> _Patch | None:
    """Encode XOR arrays over ``box`` into a patch cropped to where anything changed."""
    cropped = _crop_changed(box, xors)
    if cropped is None:
        return None
    return _Patch(cropped[0], {seg: _encode(xor) for seg, xor in cropped[1].items()})


def _combine_patches(box: _Box, patches: Sequence[_Patch]) -> dict[str, np.ndarray]:
    """XOR several patches lying inside ``box`` into one array per segment over ``box``."""
    combined: dict[str, np.ndarray] = {}
    for patch in patches:
        region = patch.box.relative_slices(box)
        for seg in patch.bits:
            target = combined.setdefault(seg, np.zeros(box.shape, dtype=bool))
            target[region] ^= patch.decode(seg)
    return combined


def _merge_patches(patches: Sequence[_Patch]) -> tuple[_Patch, ...]:
    """Equivalent patches with overlapping or nearby boxes combined (XORs may cancel)."""
    merged: list[_Patch] = []
    for cluster in _cluster_boxes([patch.box for patch in patches]):
        if len(cluster.members) == 1:
            merged.append(patches[cluster.members[0]])  # already tight: keep its bytes
            continue
        members = [patches[m] for m in cluster.members]
        patch = _patch_from_xors(cluster.box, _combine_patches(cluster.box, members))
        if patch is not None:
            merged.append(patch)
    return tuple(merged)


# -------------------------------------------------------------------- keyframes

_Chunks = dict[Index3, bytes]
"""One segment of a keyframe: chunk index -> encoded chunk; chunks absent are all-False."""


@dataclass(frozen=True, slots=True)
class _ChunkGrid:
    """Regular chunking of the (k, j, i) volume used by keyframes."""

    shape: Index3
    chunk: Index3

    def box(self, key: Index3) -> _Box:
        start = _index3(k * c for k, c in zip(key, self.chunk, strict=True))
        stop = _index3(min(s + c, n) for s, c, n in zip(start, self.chunk, self.shape, strict=True))
        return _Box(start, stop)

    def keys_in(self, box: _Box) -> set[Index3]:
        """Keys of every chunk that intersects ``box``."""
        ranges = [
            range(a // c, (b - 1) // c + 1)
            for a, b, c in zip(box.start, box.stop, self.chunk, strict=True)
        ]
        return {(k, j, i) for k in ranges[0] for j in ranges[1] for i in ranges[2]}

    def occupied_keys(self, mask: np.ndarray) -> list[Index3]:
        """Keys of the chunks of a whole-volume mask that hold any True voxel."""
        occupied = mask
        for axis in range(3):
            starts = np.arange(0, self.shape[axis], self.chunk[axis])
            occupied = np.logical_or.reduceat(occupied, starts, axis=axis)
        return [_index3(key) for key in np.argwhere(occupied)]


def _chunks_from_dense(grid: _ChunkGrid, mask: np.ndarray) -> _Chunks:
    """Encode the non-empty chunks of a whole-volume bool mask."""
    chunks: _Chunks = {}
    for key in grid.occupied_keys(mask):
        chunks[key] = _encode(mask[grid.box(key).slices])
    return chunks


def _paint_chunks(grid: _ChunkGrid, chunks: _Chunks, out: np.ndarray) -> None:
    """Write every stored chunk into a whole-volume array (initially all False)."""
    for key, blob in chunks.items():
        box = grid.box(key)
        out[box.slices] = _decode(blob, box.shape)


def _advance_chunks(
    grid: _ChunkGrid, base: _Chunks, patches: Sequence[_Patch], seg: str
) -> _Chunks:
    """Chunks of one segment after applying ``patches`` to ``base``.

    Chunks no patch touches are shared with ``base`` (same bytes objects), so a keyframe
    costs only the chunks changed since the previous one.
    """
    by_chunk: dict[Index3, list[tuple[_Box, np.ndarray]]] = {}
    for patch in patches:
        if seg in patch.bits:
            decoded = (patch.box, patch.decode(seg))
            for key in grid.keys_in(patch.box):
                by_chunk.setdefault(key, []).append(decoded)
    chunks = dict(base)
    for key, overlapping in by_chunk.items():
        values = _xor_into_chunk(grid.box(key), base.get(key), overlapping)
        if values.any():
            chunks[key] = _encode(values)
        else:
            chunks.pop(key, None)
    return chunks


def _xor_into_chunk(
    chunk_box: _Box, blob: bytes | None, patches: Sequence[tuple[_Box, np.ndarray]]
) -> np.ndarray:
    """Decode one chunk (all-False when absent) and XOR the overlapping patches into it."""
    if blob is None:
        values = np.zeros(chunk_box.shape, dtype=bool)
    else:
        values = _decode(blob, chunk_box.shape)
    for box, xor in patches:
        overlap = box.intersection(chunk_box)
        if overlap is not None:
            values[overlap.relative_slices(chunk_box)] ^= xor[overlap.relative_slices(box)]
    return values


def _chunk_bytes(chunks: _Chunks) -> int:
    return sum(len(blob) + BLOB_OVERHEAD_BYTES for blob in chunks.values())


# ------------------------------------------------------------------- public API


@dataclass(frozen=True)
class Change:
    """XOR patch over one box: XOR-ing it into a state moves that state to another step.

    Attributes
    ----------
    box_start, box_stop : tuple of int
        (k, j, i) voxel index of the box, start inclusive, stop exclusive.
    xor : dict of str to ndarray of bool, shape (k, j, i) of the box
        Voxels that flip, per segment; a segment absent from the dict does not change here.
    """

    box_start: Index3
    box_stop: Index3
    xor: dict[str, np.ndarray]

    @property
    def slices(self) -> tuple[slice, slice, slice]:
        """Slices of the box in a whole-volume (k, j, i) array."""
        return _slices3(self.box_start, self.box_stop)


class SegmentationCheckpoint:
    """The segmentation after one step, stored as a diff from the previous kept checkpoint.

    Attributes
    ----------
    step_index : int
        Step after which the checkpoint was taken; -1 is the initial state.
    timestamp : float
        When it was recorded (seconds since the epoch).
    payload : dict
        Small JSON-able data the runner attached (effect algorithm and parameters).
    primary_segment_id : str
        Segment that ``labelmap_array`` returns.
    """

    def __init__(
        self,
        store: CheckpointStore,
        step_index: int,
        payload: Mapping[str, Any] | None,
        segment_ids: tuple[str, ...],
        patches: tuple[_Patch, ...],
    ) -> None:
        self.step_index = step_index
        self.timestamp = time.time()
        self.payload: dict[str, Any] = copy.deepcopy(dict(payload or {}))
        self.primary_segment_id = store.primary_segment_id
        self._store: CheckpointStore | None = store
        self._segment_ids = segment_ids
        self._patches = patches
        self._keyframe: dict[str, _Chunks] | None = None
        self._keyframe_total = 0
        self._payload_bytes = 2 * len(json.dumps(self.payload, default=str))

    def __repr__(self) -> str:
        kind = "keyframe" if self.is_keyframe else "diff"
        return f"SegmentationCheckpoint(step={self.step_index}, {kind}, {self.size_bytes()} B)"

    @property
    def segment_ids(self) -> tuple[str, ...]:
        """Segments tracked at this step (the primary one always included)."""
        return self._segment_ids

    @property
    def is_keyframe(self) -> bool:
        """Whether this checkpoint also holds the whole state (restores start here)."""
        return self._keyframe is not None

    @property
    def box(self) -> tuple[Index3, Index3] | None:
        """(start, stop) (k, j, i) of the voxels changed since the previous kept checkpoint.

        None when nothing changed. After thinning merged several steps into this one, the
        box bounds all of their changes.
        """
        if not self._patches:
            return None
        union = self._patches[0].box
        for patch in self._patches[1:]:
            union = union.union(patch.box)
        return union.start, union.stop

    @property
    def labelmap_array(self) -> np.ndarray:
        """The primary segment at this step: uint8 0/1, shape (k, j, i) of the volume."""
        arrays = self._require_store()._reconstruct(self.step_index, (self.primary_segment_id,))
        return arrays[self.primary_segment_id].view(np.uint8)

    def segment_arrays(self) -> dict[str, np.ndarray]:
        """Every tracked segment at this step: bool arrays of shape (k, j, i)."""
        return self._require_store()._reconstruct(self.step_index, self._segment_ids)

    def size_bytes(self) -> int:
        """Bytes this checkpoint holds: its diff, its own keyframe chunks, bookkeeping.

        Keyframe chunks shared with the previous keyframe are counted there, not here; a
        checkpoint dropped from its store holds nothing (0).
        """
        if self._store is None:
            return 0
        own_keyframe = self._store._own_keyframe_bytes(self)
        return self._diff_bytes() + own_keyframe + CHECKPOINT_OVERHEAD_BYTES + self._payload_bytes

    def _diff_bytes(self) -> int:
        return sum(patch.nbytes() for patch in self._patches)

    def _restore_cost(self) -> int:
        """Voxels to decode to replay this checkpoint's diff (a proxy for time)."""
        return sum(patch.box.size * len(patch.bits) for patch in self._patches)

    def _require_store(self) -> CheckpointStore:
        if self._store is None:
            raise CheckpointNotKeptError(
                f"checkpoint of step {self.step_index} was dropped from its store (thinned by "
                "the memory budget, truncated or cleared); ask the store for a kept step"
            )
        return self._store

    def _detach(self) -> None:
        """Release the data once the store no longer keeps this checkpoint."""
        self._store = None
        self._patches = ()
        self._keyframe = None
        self._keyframe_total = 0


class CheckpointStore:
    """Checkpoints of a segmentation after every step of a recipe, memory-bounded.

    Parameters
    ----------
    shape : tuple of int
        (k, j, i) shape of the volume every segment shares.
    primary_segment_id : str
        Segment returned by ``SegmentationCheckpoint.labelmap_array``; always tracked.
    budget_bytes : int
        Memory budget in bytes; above it the store gives up keyframes, then thins
        intermediate checkpoints (see docs/checkpoints.md).
    keyframe_interval : int
        Largest number of steps between keyframes.
    chunk_shape : tuple of int
        (k, j, i) voxels per keyframe chunk.
    """

    def __init__(
        self,
        shape: Sequence[int],
        primary_segment_id: str,
        budget_bytes: int = DEFAULT_BUDGET_BYTES,
        keyframe_interval: int = DEFAULT_KEYFRAME_INTERVAL,
        chunk_shape: Sequence[int] = DEFAULT_CHUNK_SHAPE,
    ) -> None:
        if budget_bytes < 0:
            raise CheckpointDataError(f"budget_bytes must be >= 0, got {budget_bytes}")
        if keyframe_interval < 1:
            raise CheckpointDataError(f"keyframe_interval must be >= 1, got {keyframe_interval}")
        self.shape = _check_shape(shape, "shape")
        self.primary_segment_id = primary_segment_id
        self.budget_bytes = int(budget_bytes)
        self.keyframe_interval = int(keyframe_interval)
        self._grid = _ChunkGrid(self.shape, _check_shape(chunk_shape, "chunk_shape"))
        self._steps: list[int] = []
        self._by_step: dict[int, SegmentationCheckpoint] = {}
        self._bytes_held = 0
        self._thinned = 0
        self._keyframes_suspended = False
        self._warned_over_budget = False

    # ------------------------------------------------------------------ queries

    @property
    def checkpoints(self) -> list[SegmentationCheckpoint]:
        """Kept checkpoints in step order."""
        return [self._by_step[step] for step in self._steps]

    @property
    def last_step(self) -> int:
        """Step of the latest checkpoint (-1 right after ``start``)."""
        self._require_started()
        return self._steps[-1]

    def get(self, step: int) -> SegmentationCheckpoint | None:
        """The kept checkpoint of ``step``, or None (never recorded, truncated or thinned)."""
        return self._by_step.get(step)

    def is_kept(self, step: int) -> bool:
        """Whether ``step`` can be restored exactly from the store."""
        return step in self._by_step

    def nearest_kept_at_or_before(self, step: int) -> int:
        """Latest kept step <= ``step``: where a runner restores before re-executing."""
        self._require_started()
        if step < -1:
            raise CheckpointDataError(f"step must be >= -1 (the initial state), got {step}")
        return self._steps[bisect.bisect_right(self._steps, step) - 1]

    # ---------------------------------------------------------------- recording

    def start(
        self, initial: Mapping[str, np.ndarray], payload: Mapping[str, Any] | None = None
    ) -> SegmentationCheckpoint:
        """Forget everything and store the initial state (step -1) as a keyframe.

        Parameters
        ----------
        initial : mapping of str to ndarray, each of shape (k, j, i) of the volume
            Every segment's whole mask (nonzero = inside). Missing segments are all-False.
        payload : mapping, optional
            Small JSON-able data to keep with the checkpoint (copied).

        Returns
        -------
        SegmentationCheckpoint
            Step -1; it tracks the given segments and the primary one.
        """
        masks = {
            seg: _check_mask(arr, self.shape, f"initial[{seg!r}]") for seg, arr in initial.items()
        }
        self.clear()  # only once the input is known to be good: a bad call keeps the old data
        segment_ids = _extend_ids((), [*masks, self.primary_segment_id])
        checkpoint = SegmentationCheckpoint(self, -1, payload, segment_ids, ())
        empty: _Chunks = {}
        keyframe = {
            seg: _chunks_from_dense(self._grid, masks[seg]) if seg in masks else empty
            for seg in segment_ids
        }
        self._append(checkpoint)
        self._set_keyframe(checkpoint, keyframe)
        self._bytes_held = checkpoint.size_bytes()
        self._enforce_budget()
        return checkpoint

    def record(
        self,
        step_index: int,
        box_start: Sequence[int],
        box_stop: Sequence[int],
        before: Mapping[str, np.ndarray],
        after: Mapping[str, np.ndarray],
        payload: Mapping[str, Any] | None = None,
    ) -> SegmentationCheckpoint:
        """Store the change one step made inside a box.

        Parameters
        ----------
        step_index : int
            Must be exactly ``last_step + 1``; truncate first to record another future.
        box_start, box_stop : sequence of int
            (k, j, i) voxel box, start inclusive, stop exclusive, inside the volume. Every
            voxel the step changed must lie inside it.
        before, after : mapping of str to ndarray, each of the box's shape (k, j, i)
            Segments over the box before and after the step (nonzero = inside). A segment
            missing from one of them is all-False there (a new segment appears in ``after``).
        payload : mapping, optional
            Small JSON-able data to keep with the checkpoint (copied).

        Returns
        -------
        SegmentationCheckpoint
            The new checkpoint; it may already be thinned if the budget is tiny.
        """
        started = time.perf_counter()
        self._check_next_step(step_index)
        box = self._check_box(box_start, box_stop)
        xors = _box_xors(box, before, after)
        patch = _patch_from_xors(box, xors)
        segment_ids = _extend_ids(self._by_step[self._steps[-1]].segment_ids, [*before, *after])
        checkpoint = SegmentationCheckpoint(
            self, step_index, payload, segment_ids, () if patch is None else (patch,)
        )
        self._append(checkpoint)
        self._maybe_take_keyframe(checkpoint)
        size = checkpoint.size_bytes()
        self._bytes_held += size
        self._enforce_budget()
        logger.debug(
            "checkpoint step %d: %d B%s, %.2f ms",
            step_index,
            size,
            " (keyframe)" if checkpoint.is_keyframe else "",
            (time.perf_counter() - started) * 1e3,
        )
        return checkpoint

    def truncate_after(self, step_index: int) -> None:
        """Drop every checkpoint after ``step_index`` (before branching or re-recording).

        After truncating at a thinned step, ``last_step`` is the nearest kept step before it
        and recording continues from there.
        """
        self._require_started()
        if step_index < -1:
            raise CheckpointDataError(f"step must be >= -1 (the initial state), got {step_index}")
        position = bisect.bisect_right(self._steps, step_index)
        dropped = [self._by_step[step] for step in self._steps[position:]]
        # sized while the chain is whole (a keyframe's own bytes depend on the one before);
        # what stays shares nothing with a dropped suffix, so its sizes do not change
        self._bytes_held -= sum(checkpoint.size_bytes() for checkpoint in dropped)
        for checkpoint in dropped:
            del self._by_step[checkpoint.step_index]
            checkpoint._detach()
        del self._steps[position:]
        if self._bytes_held <= self.budget_bytes:
            self._warned_over_budget = False
        if self._bytes_held <= self.budget_bytes // 2:
            self._keyframes_suspended = False

    def clear(self) -> None:
        """Free every checkpoint; checkpoints handed out earlier stop reconstructing."""
        for checkpoint in self._by_step.values():
            checkpoint._detach()
        self._steps.clear()
        self._by_step.clear()
        self._bytes_held = 0
        self._thinned = 0
        self._keyframes_suspended = False
        self._warned_over_budget = False

    # ------------------------------------------------------------------ reading

    def state_at(self, step: int) -> dict[str, np.ndarray]:
        """Every tracked segment at a kept step: bool arrays of shape (k, j, i)."""
        return self._reconstruct(step, self._kept(step).segment_ids)

    def changes_between(self, from_step: int, to_step: int) -> list[Change]:
        """XOR patches that turn the state at ``from_step`` into the state at ``to_step``.

        Works in both directions (XOR is its own inverse). Both steps must be kept. Each
        box is cropped to the voxels that really flip; nearby or overlapping boxes are
        merged where one write of their union costs less than separate writes, and steps
        whose changes cancel produce no patch. Boxes may still overlap: XOR-ing the patches
        into the state one after the other, in any order, is exact.

        Returns
        -------
        list of Change
            Ordered by box start; empty when the two states are equal.
        """
        self._kept(from_step)
        self._kept(to_step)
        low, high = sorted((from_step, to_step))
        patches = [patch for cp in self._kept_between(low, high) for patch in cp._patches]
        changes = []
        for cluster in _cluster_boxes([patch.box for patch in patches]):
            members = [patches[m] for m in cluster.members]
            cropped = _crop_changed(cluster.box, _combine_patches(cluster.box, members))
            if cropped is not None:
                changes.append(Change(cropped[0].start, cropped[0].stop, cropped[1]))
        return changes

    def stats(self) -> dict[str, Any]:
        """Memory figures: ``bytes_held`` against ``full_copy_bytes`` (uint8 copies of every
        tracked segment at every kept checkpoint) and their ``ratio``."""
        kept = self.checkpoints
        voxels = self.shape[0] * self.shape[1] * self.shape[2]
        full_copy_bytes = sum(len(cp.segment_ids) * voxels for cp in kept)
        return {
            "count": len(kept),
            "bytes_held": self._bytes_held,
            "full_copy_bytes": full_copy_bytes,
            "ratio": self._bytes_held / full_copy_bytes if full_copy_bytes else 0.0,
            "keyframes": sum(1 for cp in kept if cp.is_keyframe),
            "budget_bytes": self.budget_bytes,
            "thinned": self._thinned,
            "segments": len(kept[-1].segment_ids) if kept else 0,
        }

    # ------------------------------------------------------- internals: structure

    def _require_started(self) -> None:
        if not self._steps:
            raise CheckpointStoreEmptyError("the checkpoint store is empty: call start() first")

    def _kept(self, step: int) -> SegmentationCheckpoint:
        checkpoint = self._by_step.get(step)
        if checkpoint is None:
            self._require_started()
            raise CheckpointNotKeptError(
                f"step {step} has no kept checkpoint (last step {self._steps[-1]}; thinned or "
                f"truncated steps are not kept): restore step "
                f"{self.nearest_kept_at_or_before(max(step, -1))} and re-execute from there"
            )
        return checkpoint

    def _kept_between(self, low: int, high: int) -> list[SegmentationCheckpoint]:
        """Kept checkpoints with ``low < step <= high``."""
        first = bisect.bisect_right(self._steps, low)
        last = bisect.bisect_right(self._steps, high)
        return [self._by_step[step] for step in self._steps[first:last]]

    def _append(self, checkpoint: SegmentationCheckpoint) -> None:
        self._steps.append(checkpoint.step_index)
        self._by_step[checkpoint.step_index] = checkpoint

    def _check_next_step(self, step_index: int) -> None:
        expected = self.last_step + 1
        if step_index != expected:
            raise CheckpointOrderError(
                f"cannot record step {step_index}: the last recorded step is "
                f"{expected - 1}, so the next must be {expected}; call truncate_after() "
                "first to record a different future"
            )

    def _check_box(self, box_start: Sequence[int], box_stop: Sequence[int]) -> _Box:
        box = _Box(_check_index(box_start, "box_start"), _check_index(box_stop, "box_stop"))
        inside = all(
            0 <= a <= b <= n for a, b, n in zip(box.start, box.stop, self.shape, strict=True)
        )
        if not inside:
            raise CheckpointDataError(
                f"box {box.start}..{box.stop} is not a (k, j, i) box inside the volume "
                f"of shape {self.shape} (start inclusive, stop exclusive)"
            )
        return box

    # -------------------------------------------------------- internals: keyframes

    def _previous_keyframe(self, step: int) -> SegmentationCheckpoint | None:
        """Latest kept keyframe strictly before ``step``."""
        for position in range(bisect.bisect_left(self._steps, step) - 1, -1, -1):
            checkpoint = self._by_step[self._steps[position]]
            if checkpoint.is_keyframe:
                return checkpoint
        return None

    def _set_keyframe(
        self, checkpoint: SegmentationCheckpoint, keyframe: dict[str, _Chunks]
    ) -> None:
        checkpoint._keyframe = keyframe
        checkpoint._keyframe_total = sum(_chunk_bytes(chunks) for chunks in keyframe.values())

    def _maybe_take_keyframe(self, checkpoint: SegmentationCheckpoint) -> None:
        """Take a keyframe when enough steps or diff bytes piled up since the last one.

        The byte rule keeps a restore's replay no costlier than decoding the keyframe, and
        spaces keyframes geometrically while a segmentation grows.
        """
        base = self._previous_keyframe(checkpoint.step_index)
        if self._keyframes_suspended or base is None:
            return
        since = self._kept_between(base.step_index, checkpoint.step_index)
        diff_bytes = sum(cp._diff_bytes() for cp in since)
        due = checkpoint.step_index - base.step_index >= self.keyframe_interval
        if due or diff_bytes > max(base._keyframe_total, KEYFRAME_MIN_DIFF_BYTES):
            self._build_keyframe(checkpoint, base, since)

    def _build_keyframe(
        self,
        checkpoint: SegmentationCheckpoint,
        base: SegmentationCheckpoint,
        since: Sequence[SegmentationCheckpoint],
    ) -> None:
        started = time.perf_counter()
        assert base._keyframe is not None  # _previous_keyframe only returns keyframes
        patches = [patch for cp in since for patch in cp._patches]
        keyframe = {
            seg: _advance_chunks(self._grid, base._keyframe.get(seg, {}), patches, seg)
            for seg in checkpoint.segment_ids
        }
        self._set_keyframe(checkpoint, keyframe)
        logger.debug(
            "keyframe at step %d from step %d: %.2f ms",
            checkpoint.step_index,
            base.step_index,
            (time.perf_counter() - started) * 1e3,
        )

    def _own_keyframe_bytes(self, checkpoint: SegmentationCheckpoint) -> int:
        """Keyframe bytes of ``checkpoint`` not shared with the previous kept keyframe."""
        if checkpoint._keyframe is None:
            return 0
        previous = self._previous_keyframe(checkpoint.step_index)
        shared = {} if previous is None or previous._keyframe is None else previous._keyframe
        total = 0
        for seg, chunks in checkpoint._keyframe.items():
            earlier = shared.get(seg, {})
            total += CHUNK_SLOT_BYTES * len(chunks)
            total += sum(
                len(blob) + BLOB_OVERHEAD_BYTES
                for key, blob in chunks.items()
                if earlier.get(key) is not blob
            )
        return total

    # ----------------------------------------------------------- internals: budget

    def _enforce_budget(self) -> None:
        """Give up keyframes, then thin checkpoints, until the budget holds or nothing is
        left to give up (then warn once: correctness is never traded for memory)."""
        while self._bytes_held > self.budget_bytes:
            if not (self._demote_oldest_keyframe() or self._thin_one()):
                break
            self._keyframes_suspended = True
        if self._bytes_held > self.budget_bytes and not self._warned_over_budget:
            self._warned_over_budget = True
            logger.warning(
                "checkpoints hold %d bytes, over the budget of %d bytes, with only the initial "
                "state and the latest step left; restores stay exact, raise budget_bytes to "
                "keep intermediate steps",
                self._bytes_held,
                self.budget_bytes,
            )

    def _demote_oldest_keyframe(self) -> bool:
        """Drop the keyframe data of the oldest keyframe after step -1.

        Keyframes only make restores faster: every kept step stays reachable from step -1
        through the diffs, so they go before any checkpoint does.
        """
        for step in self._steps[1:]:
            checkpoint = self._by_step[step]
            if checkpoint.is_keyframe:
                checkpoint._keyframe = None
                checkpoint._keyframe_total = 0
                # the next keyframe now owns the chunks it shared with this one
                self._bytes_held = sum(cp.size_bytes() for cp in self.checkpoints)
                logger.debug("memory budget: dropped the keyframe of step %d", step)
                return True
        return False

    def _thin_one(self) -> bool:
        """Drop the intermediate checkpoint whose loss leaves the smallest gap in steps,
        merging its diff into the next kept checkpoint so the chain stays exact."""
        candidates = [
            position
            for position in range(1, len(self._steps) - 1)
            if not self._by_step[self._steps[position]].is_keyframe
        ]
        if not candidates:
            return False
        steps = self._steps
        position = min(candidates, key=lambda p: (steps[p + 1] - steps[p - 1], steps[p]))
        victim = self._by_step.pop(steps[position])
        successor = self._by_step[steps[position + 1]]
        del steps[position]
        freed = victim.size_bytes() + successor.size_bytes()
        successor._patches = _merge_patches(victim._patches + successor._patches)
        self._bytes_held += successor.size_bytes() - freed
        victim._detach()
        self._thinned += 1
        logger.debug("memory budget: thinned step %d", victim.step_index)
        return True

    # -------------------------------------------------------- internals: restoring

    def _reconstruct(self, step: int, segment_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Dense bool (k, j, i) arrays of ``segment_ids`` at a kept step."""
        started = time.perf_counter()
        keyframe, patches = self._restore_plan(step)
        arrays = {}
        for seg in segment_ids:
            arrays[seg] = np.zeros(self.shape, dtype=bool)
            _paint_chunks(self._grid, keyframe.get(seg, {}), arrays[seg])
        for patch in patches:
            for seg in segment_ids:
                if seg in patch.bits:
                    arrays[seg][patch.box.slices] ^= patch.decode(seg)
        logger.debug("state of step %d: %.2f ms", step, (time.perf_counter() - started) * 1e3)
        return arrays

    def _restore_plan(self, step: int) -> tuple[dict[str, _Chunks], list[_Patch]]:
        """Keyframe to start from and the patches to XOR into it, cheapest direction first.

        Forward from the latest keyframe at or before ``step``, or backward from the first
        keyframe after it when that replays fewer voxels.
        """
        self._kept(step)
        position = bisect.bisect_left(self._steps, step)
        checkpoints = self.checkpoints
        start = next(p for p in range(position, -1, -1) if checkpoints[p].is_keyframe)
        forward = checkpoints[start + 1 : position + 1]
        plan = (checkpoints[start], forward)
        cost = sum(cp._restore_cost() for cp in forward)
        for end in range(position + 1, len(checkpoints)):
            backward = checkpoints[position + 1 : end + 1]
            if sum(cp._restore_cost() for cp in backward) >= cost:
                break
            if checkpoints[end].is_keyframe:
                plan = (checkpoints[end], backward)
                break
        keyframe = plan[0]._keyframe
        assert keyframe is not None  # step -1 always keeps its keyframe
        return keyframe, [patch for cp in plan[1] for patch in cp._patches]


# ------------------------------------------------------------- input checking


def _check_shape(shape: Sequence[int], name: str) -> Index3:
    values = tuple(int(v) for v in shape)
    if len(values) != 3 or min(values) < 1:
        raise CheckpointDataError(f"{name} must be three positive (k, j, i) sizes, got {shape}")
    return _index3(values)


def _check_index(index: Sequence[int], name: str) -> Index3:
    values = tuple(int(v) for v in index)
    if len(values) != 3:
        raise CheckpointDataError(f"{name} must be a (k, j, i) index, got {index}")
    return _index3(values)


def _check_mask(array: np.ndarray, shape: Index3, name: str) -> np.ndarray:
    """The array as bool (nonzero = inside), after checking it is (k, j, i) of ``shape``."""
    values = np.asarray(array)
    if values.shape != shape:
        raise CheckpointDataError(f"{name} has shape {values.shape}, expected {shape}")
    return values if values.dtype == np.bool_ else values != 0


def _extend_ids(known: tuple[str, ...], more: Sequence[str]) -> tuple[str, ...]:
    """``known`` followed by the ids of ``more`` not in it, in first-seen order."""
    return tuple(dict.fromkeys([*known, *more]))


def _box_xors(
    box: _Box, before: Mapping[str, np.ndarray], after: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Per segment, the voxels of ``box`` that the step flipped."""
    absent = np.zeros(box.shape, dtype=bool)
    xors = {}
    for seg in _extend_ids((), [*before, *after]):
        old = _check_mask(before[seg], box.shape, f"before[{seg!r}]") if seg in before else absent
        new = _check_mask(after[seg], box.shape, f"after[{seg!r}]") if seg in after else absent
        xors[seg] = old ^ new
    return xors


def _crop_changed(
    box: _Box, xors: Mapping[str, np.ndarray]
) -> tuple[_Box, dict[str, np.ndarray]] | None:
    """Drop segments that did not change and crop the rest to the box of changed voxels."""
    changed = {seg: xor for seg, xor in xors.items() if xor.any()}
    if not changed:
        return None
    tight = _nonzero_box(np.logical_or.reduce(list(changed.values())))
    assert tight is not None  # at least one array has a True voxel
    absolute = _Box(
        _index3(s + t for s, t in zip(box.start, tight.start, strict=True)),
        _index3(s + t for s, t in zip(box.start, tight.stop, strict=True)),
    )
    if absolute == box:
        return box, changed
    return absolute, {seg: xor[tight.slices].copy() for seg, xor in changed.items()}
