"""Post-processing: hole filling in 3D and 2D, the seed's component, closing."""

from __future__ import annotations

import numpy as np
from SegmentEditorAdaptiveBrushLib.core.params import BrushParameters
from SegmentEditorAdaptiveBrushLib.core.postprocess import postprocess

SPACING = (1.0, 1.0, 1.0)
ONLY_FILL = BrushParameters({"keep_seed_component": False})
ONLY_COMPONENT = BrushParameters({"fill_holes": False})
NOTHING = BrushParameters({"fill_holes": False, "keep_seed_component": False})


def ball(shape: tuple[int, int, int], centre: tuple[int, int, int], radius: float) -> np.ndarray:
    k, j, i = np.indices(shape)
    return (k - centre[0]) ** 2 + (j - centre[1]) ** 2 + (i - centre[2]) ** 2 <= radius**2


def test_fills_an_enclosed_cavity_in_3d() -> None:
    shell = ball((21, 21, 21), (10, 10, 10), 8) & ~ball((21, 21, 21), (10, 10, 10), 4)
    result = postprocess(shell, (10, 10, 2), SPACING, ONLY_FILL)

    assert np.array_equal(result, ball((21, 21, 21), (10, 10, 10), 8))


def test_fills_a_ring_in_a_single_slice() -> None:
    # A one-slice ROI (2D brush): every voxel touches the 3D border, so a 3D hole filling
    # never filled anything here.
    disk = ball((1, 21, 21), (0, 10, 10), 8)
    ring = disk & ~ball((1, 21, 21), (0, 10, 10), 3)
    result = postprocess(ring, (0, 10, 2), SPACING, ONLY_FILL)

    assert np.array_equal(result, disk)


def test_fills_a_ring_in_a_sagittal_slice() -> None:
    disk = ball((21, 21, 1), (10, 10, 0), 8)
    ring = disk & ~ball((21, 21, 1), (10, 10, 0), 3)

    assert np.array_equal(postprocess(ring, (10, 2, 0), SPACING, ONLY_FILL), disk)


def test_a_solid_ball_is_left_as_it_is() -> None:
    # The label image behind the hole filling must stay alive while it is read: an array
    # view of a freed SimpleITK image once turned solid masks into noise.
    solid = ball((31, 31, 31), (15, 15, 15), 12)
    result = postprocess(solid, (15, 15, 15), SPACING, BrushParameters())

    assert np.array_equal(result, solid)


def test_a_cavity_open_to_the_outside_is_not_filled() -> None:
    cup = ball((21, 21, 21), (10, 10, 10), 8) & ~ball((21, 21, 21), (10, 10, 10), 4)
    cup[10, 10, 10:] = False  # a channel from the cavity to the outside

    result = postprocess(cup, (10, 10, 2), SPACING, ONLY_FILL)

    assert not result[10, 10, 10]


def test_keeps_only_the_seed_component() -> None:
    mask = ball((20, 20, 40), (10, 10, 8), 5) | ball((20, 20, 40), (10, 10, 30), 5)
    result = postprocess(mask, (10, 10, 30), SPACING, ONLY_COMPONENT)

    assert np.array_equal(result, ball((20, 20, 40), (10, 10, 30), 5))


def test_diagonal_neighbours_belong_to_the_seed_component() -> None:
    mask = np.zeros((3, 3, 3), dtype=bool)
    mask[0, 0, 0] = mask[1, 1, 1] = mask[2, 2, 2] = True

    assert postprocess(mask, (0, 0, 0), SPACING, ONLY_COMPONENT).sum() == 3


def test_seed_outside_the_result_keeps_every_component() -> None:
    mask = ball((20, 20, 40), (10, 10, 8), 5) | ball((20, 20, 40), (10, 10, 30), 5)

    assert np.array_equal(postprocess(mask, (0, 0, 0), SPACING, ONLY_COMPONENT), mask)


def test_closing_bridges_a_narrow_gap() -> None:
    mask = np.zeros((1, 20, 30), dtype=bool)
    mask[0, 5:15, 3:14] = True
    mask[0, 5:15, 15:27] = True  # one-voxel gap at i = 14
    closed = postprocess(mask, (0, 10, 5), SPACING, BrushParameters({"closing_radius_mm": 2.0}))

    assert closed[0, 5:15, 14].all()
    open_result = postprocess(mask, (0, 10, 5), SPACING, BrushParameters())
    assert not open_result[0, :, 14:].any()


def test_closing_radius_is_in_mm_per_axis() -> None:
    # Along 5 mm slices a 2 mm closing is less than half a voxel: it must not merge slices.
    mask = np.zeros((5, 10, 10), dtype=bool)
    mask[1, 2:8, 2:8] = True
    mask[3, 2:8, 2:8] = True
    closed = postprocess(
        mask, (1, 5, 5), (5.0, 1.0, 1.0), BrushParameters({"closing_radius_mm": 2.0})
    )

    assert not closed[2].any()


def test_empty_stays_empty_and_input_is_not_modified() -> None:
    empty = np.zeros((4, 4, 4), dtype=bool)
    assert not postprocess(empty, (1, 1, 1), SPACING, BrushParameters()).any()

    shell = ball((21, 21, 21), (10, 10, 10), 8) & ~ball((21, 21, 21), (10, 10, 10), 4)
    before = shell.copy()
    postprocess(shell, (10, 10, 2), SPACING, BrushParameters())
    assert np.array_equal(shell, before)


def test_single_voxel_and_line_results() -> None:
    voxel = np.zeros((3, 3, 3), dtype=bool)
    voxel[1, 1, 1] = True
    assert np.array_equal(postprocess(voxel, (1, 1, 1), SPACING, BrushParameters()), voxel)

    line = np.zeros((1, 1, 9), dtype=bool)
    line[0, 0, 2:7] = True
    assert np.array_equal(postprocess(line, (0, 0, 4), SPACING, BrushParameters()), line)


def test_nothing_requested_returns_a_copy() -> None:
    mask = ball((9, 9, 9), (4, 4, 4), 3)
    result = postprocess(mask, (4, 4, 4), SPACING, NOTHING)

    assert np.array_equal(result, mask) and result is not mask
