"""Tests of the slice pictures: file format, aspect ratio, colours, orientation, index."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from SegmentEditorAdaptiveBrushTesterLib.core import pictures

from tests.core.realdata import load_case

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


# --- thin slices keep a legend ------------------------------------------------------------


def test_one_slice_volume_gives_a_coronal_picture_with_room_for_the_legend(
    tmp_path: Path,
) -> None:
    # One axial slice of 260 x 128 voxels of 3 mm: its coronal view is 780 mm by 3 mm,
    # which used to be a 780 x 2 pixel strip whose legend was cut off.
    volume = np.full((1, 128, 260), GRAY)
    masks = {"result": _box_mask(volume.shape, np.s_[:, 60:70, 100:160])}
    with_legend, without = tmp_path / "with.png", tmp_path / "without.png"

    pictures.render_overlay_png(with_legend, volume, masks, (3.0, 3.0, 3.0), "coronal")
    pictures.render_overlay_png(without, volume, masks, (3.0, 3.0, 3.0), "coronal", legend=False)
    rgb, strip = _read(with_legend), _read(without)

    assert rgb.shape[0] >= pictures.MIN_SHORT_SIDE_PX
    assert rgb.shape[1] == strip.shape[1] == pictures.MAX_LONG_SIDE_PX
    # Enlarged as far as the long-side cap allows, keeping the mm aspect (780 : 3).
    assert strip.shape[0] == round(3 * pictures.MAX_LONG_SIDE_PX / 780)
    # The legend is whole: its black box with light text ends inside the picture.
    black_rows = np.flatnonzero(np.all(rgb[:, :20] == 0, axis=2).any(axis=1))
    assert 30 < black_rows.max() < rgb.shape[0] - 4
    text = np.all(rgb[: black_rows.max(), :200] > 200, axis=2)
    assert text.sum() > 50
    # The slice itself sits unchanged in the middle of the border.
    top = (rgb.shape[0] - strip.shape[0]) // 2
    assert np.array_equal(rgb[top : top + strip.shape[0], -100:], strip[:, -100:])


def test_thin_slab_is_enlarged_until_the_short_side_fits(tmp_path: Path) -> None:
    volume = np.full((40, 128, 128), GRAY)
    path = tmp_path / "coronal.png"

    pictures.render_overlay_png(path, volume, [], (1.0, 3.0, 3.0), "coronal", legend=False)

    with Image.open(path) as image:
        width, height = image.size
    # 128 columns of 3 mm against 40 rows of 1 mm: 384 mm by 40 mm, aspect 9.6; the
    # default scale alone (0.5 mm) would give 768 x 80 pixels.
    assert height == pictures.MIN_SHORT_SIDE_PX
    assert width == round(9.6 * pictures.MIN_SHORT_SIDE_PX)


def test_output_size_keeps_big_enough_slices_as_before() -> None:
    assert pictures.output_size((34, 128), (10.0, 3.0)) == (512, 453)
    assert pictures.output_size((128, 128), (1.0, 1.0)) == (512, 512)
    assert pictures.output_size((512, 512), (0.7, 0.7)) == (512, 512)
    assert pictures.output_size((1, 260), (3.0, 3.0), pixel_mm=1.5) == (520, 2)


def test_small_picture_at_an_explicit_scale_is_bordered_for_its_legend(tmp_path: Path) -> None:
    volume = np.full((3, 20, 30), GRAY)
    labels = ["a rather long label for the result", "reference"]
    masks = [np.zeros(volume.shape, bool), np.zeros(volume.shape, bool)]
    path = tmp_path / "small.png"

    pictures.render_overlay_png(
        path, volume, masks, (1.0, 1.0, 1.0), "axial", pixel_mm=1.0, labels=labels
    )
    rgb = _read(path)

    assert rgb.shape[0] >= pictures.MIN_SHORT_SIDE_PX
    assert rgb.shape[1] > 150  # wider than the long label
    assert tuple(rgb[-1, -1]) == pictures.BORDER_COLOR
    # The slice keeps its exact 30 x 20 pixel size, centred on the border.
    height, width = rgb.shape[:2]
    top, left = (height - 20) // 2, (width - 30) // 2
    gray = np.all(rgb == 128, axis=2)
    assert gray[top : top + 20, left : left + 30].all()
    assert gray.sum() == 20 * 30


# --- auto_window ---------------------------------------------------------------------------


def _chest_ct_like(rng: np.random.Generator) -> np.ndarray:
    volume = rng.normal(40.0, 20.0, (20, 64, 64))  # soft tissue
    volume[:, 10:30, 10:30] = rng.normal(-850.0, 40.0, (20, 20, 20))  # lung
    volume[:, :, :4] = -1000.0  # air outside the body
    volume[:, :2, :] = -3024.0  # outside the scanner's field of view
    return volume.astype(np.int16)


def test_auto_window_gives_the_lung_window_for_ct_in_hu() -> None:
    volume = _chest_ct_like(np.random.default_rng(1))

    assert pictures.auto_window(volume) == pictures.DEFAULT_WINDOW
    assert pictures.auto_window(load_case("lung1").image) == pictures.DEFAULT_WINDOW


def test_auto_window_spans_p1_to_p99_for_other_data() -> None:
    image = load_case("brain1").image  # MR, 0..3057
    low, high = np.percentile(image, [1.0, 99.0])

    center, width = pictures.auto_window(image)

    assert center == pytest.approx((low + high) / 2.0, rel=0.02)
    assert width == pytest.approx(high - low, rel=0.02)
    assert pictures.auto_window(image) != pictures.DEFAULT_WINDOW


def test_auto_window_ignores_a_few_extreme_voxels_and_non_finite_values() -> None:
    rng = np.random.default_rng(2)
    volume = rng.uniform(100.0, 200.0, (10, 50, 50))
    volume[0, 0, :10] = 1e6  # metal-like outliers
    volume[1, 0, :10] = np.nan
    volume[2, 0, :10] = -np.inf

    center, width = pictures.auto_window(volume)

    assert center == pytest.approx(150.0, abs=2.0)
    assert width == pytest.approx(98.0, abs=3.0)


def test_auto_window_shifted_ct_is_not_taken_for_hu() -> None:
    # The same CT stored unsigned (HU + 1024) has no voxels at -1000: not HU.
    shifted = _chest_ct_like(np.random.default_rng(3)).astype(np.int32) + 1024
    shifted = np.clip(shifted, 0, None)

    center, width = pictures.auto_window(shifted)

    low, high = np.percentile(shifted, [1.0, 99.0])
    assert (center, width) == pytest.approx(((low + high) / 2.0, high - low), rel=0.05)


def test_auto_window_samples_large_volumes_to_the_same_window() -> None:
    rng = np.random.default_rng(4)
    volume = rng.gamma(2.0, 100.0, (64, 256, 256)).astype(np.float32)  # 4.2 M voxels
    low, high = np.percentile(volume, [1.0, 99.0])

    center, width = pictures.auto_window(volume)

    assert center == pytest.approx((low + high) / 2.0, rel=0.03)
    assert width == pytest.approx(high - low, rel=0.03)


def test_auto_window_of_a_constant_volume_has_positive_width() -> None:
    assert pictures.auto_window(np.full((2, 3, 4), 7.0)) == (7.0, 1.0)
    assert pictures.auto_window(np.full((2, 3, 4), 500, dtype=np.int16)) == (500.0, 50.0)


def test_auto_window_without_finite_values_falls_back_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level("WARNING"):
        window = pictures.auto_window(np.full((2, 2, 2), np.nan))

    assert window == pictures.DEFAULT_WINDOW
    assert "no finite intensities" in caplog.text


@pytest.mark.parametrize(
    ("volume", "message"),
    [(np.zeros((0, 4, 4)), "empty"), (np.array([["a", "b"]]), "real numbers")],
)
def test_auto_window_rejects_unusable_volumes(volume: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        pictures.auto_window(volume)
