"""Tests of the slice pictures: file format, aspect ratio, colours, orientation, index."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from SegmentEditorAdaptiveBrushTesterLib.core import pictures

LPS_LIKE = np.diag([-1.0, -1.0, 1.0, 1.0])  # i to patient Left, j to Posterior, k to Superior
GRAY = -500.0  # middle of the default window, drawn as 128


def _read(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        assert image.format == "PNG"
        return np.asarray(image.convert("RGB")).astype(int)


def _box_mask(shape: tuple[int, int, int], box: tuple[slice, slice, slice]) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    mask[box] = True
    return mask


def _is_gray(pixel: np.ndarray) -> bool:
    return bool(pixel[0] == pixel[1] == pixel[2])


def test_file_is_png_with_true_aspect_ratio_for_thick_coronal_slices(tmp_path: Path) -> None:
    volume = np.full((34, 128, 128), GRAY, dtype=np.int16)
    path = tmp_path / "coronal.png"

    pictures.render_overlay_png(path, volume, [], (10.0, 3.0, 3.0), "coronal")

    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    height, width, _ = _read(path).shape
    # 128 columns of 3 mm against 34 rows of 10 mm: 384 mm wide, 340 mm tall.
    assert width / height == pytest.approx(384 / 340, rel=0.01)
    assert max(width, height) >= pictures.MIN_LONG_SIDE_PX


def test_explicit_pixel_size_gives_exact_image_size(tmp_path: Path) -> None:
    volume = np.zeros((34, 128, 100), dtype=np.float32)
    path = tmp_path / "coronal.png"

    pictures.render_overlay_png(path, volume, [], (10.0, 3.0, 2.0), "coronal", pixel_mm=1.0)

    with Image.open(path) as image:
        assert image.size == (200, 340)  # (width, height): 100 x 2 mm, 34 x 10 mm


def test_fill_and_outline_colour_the_expected_pixels(tmp_path: Path) -> None:
    shape = (5, 40, 40)
    volume = np.full(shape, GRAY)
    result = _box_mask(shape, np.s_[:, 10:20, 10:20])
    reference = _box_mask(shape, np.s_[:, 22:34, 22:34])
    path = tmp_path / "axial.png"

    pictures.render_overlay_png(
        path,
        volume,
        {"result": result, "reference": reference},
        (1.0, 1.0, 1.0),
        "axial",
        index=2,
        flip_lr=False,
        flip_ud=False,
        pixel_mm=1.0,
        legend=False,
    )
    rgb = _read(path)

    inside_fill = rgb[15, 15]
    assert inside_fill[0] > inside_fill[2] + 40 and inside_fill[1] > inside_fill[2] + 40
    assert tuple(rgb[10, 15]) == pictures.DEFAULT_COLORS[0]  # result outline
    assert tuple(rgb[22, 28]) == pictures.DEFAULT_COLORS[1]  # reference outline
    assert _is_gray(rgb[28, 28])  # the reference is outlined only
    assert _is_gray(rgb[5, 35]) and rgb[5, 35][0] == 128


def test_window_maps_intensities_to_gray_levels(tmp_path: Path) -> None:
    volume = np.zeros((1, 4, 4))
    volume[0, :, :2] = -100.0
    volume[0, :, 2:] = 300.0
    path = tmp_path / "window.png"

    pictures.render_overlay_png(
        path, volume, [], (1.0, 1.0, 1.0), "axial", window=(100.0, 400.0),
        flip_lr=False, flip_ud=False, pixel_mm=1.0, legend=False,
    )  # fmt: skip
    rgb = _read(path)

    assert tuple(rgb[0, 0]) == (0, 0, 0)
    assert tuple(rgb[0, 3]) == (255, 255, 255)


def test_default_flips_assume_ras_aligned_volume(tmp_path: Path) -> None:
    shape = (3, 20, 20)
    volume = np.full(shape, GRAY)
    # Low i is patient left for an identity matrix, low j is posterior.
    corner = _box_mask(shape, np.s_[:, 0:5, 0:5])
    path = tmp_path / "axial.png"

    pictures.render_overlay_png(
        path, volume, [corner], (1.0, 1.0, 1.0), "axial", pixel_mm=1.0, legend=False
    )
    rgb = _read(path)

    # Radiological view: patient left on the image right, posterior at the bottom.
    assert not _is_gray(rgb[17, 17])
    assert _is_gray(rgb[2, 2])


def test_explicit_flips_mirror_the_picture(tmp_path: Path) -> None:
    shape = (3, 20, 20)
    volume = np.full(shape, GRAY)
    corner = _box_mask(shape, np.s_[:, 0:5, 0:5])
    path = tmp_path / "axial.png"

    pictures.render_overlay_png(
        path, volume, [corner], (1.0, 1.0, 1.0), "axial",
        flip_lr=True, flip_ud=False, pixel_mm=1.0, legend=False,
    )  # fmt: skip
    rgb = _read(path)

    assert not _is_gray(rgb[2, 17])
    assert _is_gray(rgb[2, 2]) and _is_gray(rgb[17, 17])


@pytest.mark.parametrize(
    ("matrix", "axis", "expected"),
    [
        (np.eye(4), "axial", (True, True)),
        (np.eye(4), "coronal", (True, True)),
        (np.eye(4), "sagittal", (True, True)),
        (LPS_LIKE, "axial", (False, False)),
        (LPS_LIKE, "coronal", (False, True)),
        (LPS_LIKE, "sagittal", (False, True)),
        (np.diag([0.7, 0.7, 2.5, 1.0]), "axial", (True, True)),
    ],
)
def test_display_flips_follow_matrix_directions(
    matrix: np.ndarray, axis: str, expected: tuple[bool, bool]
) -> None:
    assert pictures.display_flips(matrix, axis) == expected


def test_display_flips_warn_for_permuted_volume(caplog: pytest.LogCaptureFixture) -> None:
    # k runs along Anterior: a k slice is really coronal.
    permuted = np.array([[1.0, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]])

    with caplog.at_level("WARNING"):
        pictures.display_flips(permuted, "axial")

    assert "far from the axial view" in caplog.text


def test_index_none_picks_slice_with_most_foreground(tmp_path: Path) -> None:
    shape = (12, 10, 14)
    volume = np.zeros(shape)
    first = _box_mask(shape, np.s_[3:9, 4:6, 4:6])
    first[7, :, :] = True
    other = _box_mask(shape, np.s_[1:2, :, :])  # larger elsewhere, but not the first mask

    assert pictures.render_overlay_png(tmp_path / "a.png", volume, [first, other],
                                       (1.0, 1.0, 1.0), "axial") == 7  # fmt: skip
    assert pictures.render_overlay_png(tmp_path / "c.png", volume, [first, other],
                                       (1.0, 1.0, 1.0), "coronal") == 4  # fmt: skip
    assert (
        pictures.render_overlay_png(
            tmp_path / "e.png", volume, [np.zeros(shape, bool)], (1.0, 1.0, 1.0), "axial"
        )
        == 6
    )
    assert (
        pictures.render_overlay_png(
            tmp_path / "x.png", volume, [first], (1.0, 1.0, 1.0), "axial", index=2
        )
        == 2
    )


def test_legend_is_drawn_when_asked(tmp_path: Path) -> None:
    shape = (2, 64, 64)
    volume = np.full(shape, GRAY)
    masks = {"result": _box_mask(shape, np.s_[:, 40:50, 40:50])}

    pictures.render_overlay_png(tmp_path / "with.png", volume, masks, (1.0, 1.0, 1.0), "axial")
    pictures.render_overlay_png(
        tmp_path / "without.png", volume, masks, (1.0, 1.0, 1.0), "axial", legend=False
    )

    with_legend = _read(tmp_path / "with.png")
    without = _read(tmp_path / "without.png")
    assert with_legend.shape == without.shape
    assert not np.array_equal(with_legend[:40, :120], without[:40, :120])


def test_bad_inputs_raise_clear_errors(tmp_path: Path) -> None:
    volume = np.zeros((4, 5, 6))
    path = tmp_path / "bad.png"

    with pytest.raises(ValueError, match="axis"):
        pictures.render_overlay_png(path, volume, [], (1.0, 1.0, 1.0), "oblique")
    with pytest.raises(ValueError, match=r"\(4, 5, 7\).*\(4, 5, 6\)"):
        pictures.render_overlay_png(path, volume, [np.zeros((4, 5, 7))], (1.0, 1.0, 1.0))
    with pytest.raises(IndexError, match="outside"):
        pictures.render_overlay_png(path, volume, [], (1.0, 1.0, 1.0), "axial", index=4)
    with pytest.raises(ValueError, match="spacing"):
        pictures.render_overlay_png(path, volume, [], (1.0, 0.0, 1.0))
    assert not path.exists()
