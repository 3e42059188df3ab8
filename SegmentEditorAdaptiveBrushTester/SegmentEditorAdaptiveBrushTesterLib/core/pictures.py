"""PNG pictures of one CT slice with segmentation masks drawn over it.

Arrays are (k, j, i), as Slicer returns them; spacing is the voxel size in mm in the same
order. A picture is one slice of the volume:

- ``"axial"``: a k slice; image rows are j, columns are i.
- ``"coronal"``: a j slice; image rows are k, columns are i.
- ``"sagittal"``: an i slice; image rows are k, columns are j.

Before any flip, row 0 is at the top and column 0 at the left. Slicer's default views
show axial slices with anterior up and the patient's right on the image's left
(radiological convention), coronal slices with superior up and the patient's right on
the left, and sagittal slices with superior up and anterior on the left. Which flips
reproduce that depends on the volume's IJK-to-RAS directions; :func:`display_flips`
computes them from the matrix, and :func:`render_overlay_png` assumes an identity
(RAS-aligned: i to Right, j to Anterior, k to Superior) matrix when the caller gives no
flips. Oblique volumes are shown along their nearest axes without reslicing.

Pixels are resampled so that one image pixel covers the same number of mm in both
directions: a coronal slice of 3 x 3 x 10 mm data is stretched along k, not squashed.
Thin slices (the coronal view of a volume with one or a few slices) are enlarged so that
the short side has at least ``MIN_SHORT_SIDE_PX`` pixels, within ``MAX_LONG_SIDE_PX`` on
the long side; with a legend, whatever is still missing is added as a border around the
slice, so the legend always fits.

The default display window suits CT lungs; :func:`auto_window` picks one from the data,
which suits other images too.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage

logger = logging.getLogger(__name__)

Color = tuple[int, int, int]
Vector = tuple[float, float, float]

Font = ImageFont.ImageFont | ImageFont.FreeTypeFont

# (center, width) in HU: -1250..250 shows lung parenchyma, vessels and soft tissue.
DEFAULT_WINDOW = (-500.0, 1500.0)

# auto_window: percentiles that ignore a few extreme voxels (metal, padding, hot spots),
# and how many voxels at most it reads, so a 512 x 512 x 600 CT costs milliseconds.
AUTO_WINDOW_PERCENTILES = (1.0, 99.0)
AUTO_WINDOW_SAMPLES = 1_000_000

# CT in Hounsfield units has air at -1000 HU: at least this fraction of voxels within
# AIR_HU, and a 99th percentile below BONE_LIMIT_HU, which excludes shifted or scaled data.
AIR_HU = (-1100.0, -900.0)
MIN_AIR_FRACTION = 0.01
BONE_LIMIT_HU = 4000.0

# Result in yellow and reference in green, as users compare them in Slicer.
DEFAULT_COLORS: tuple[Color, ...] = (
    (255, 220, 0),
    (0, 200, 80),
    (0, 160, 255),
    (255, 80, 80),
    (200, 90, 255),
)

# Small slices (128 x 128 sample data) are enlarged until the longest side reaches this,
# so thin outlines stay readable; the factor is capped to keep big slices small.
MIN_LONG_SIDE_PX = 512
MAX_UPSAMPLING = 8

# Thin slices are enlarged until the short side has MIN_SHORT_SIDE_PX pixels (room for
# the legend), but never beyond MAX_LONG_SIDE_PX on the long side; a legend's picture is
# bordered up to MIN_SHORT_SIDE_PX when the cap stops the enlargement earlier.
MIN_SHORT_SIDE_PX = 128
MAX_LONG_SIDE_PX = 2048

# The border is dark blue-grey, so it is not mistaken for air in a CT window.
BORDER_COLOR: Color = (24, 24, 40)

# Array axis removed by each view.
_SLICED_AXIS = {"axial": 0, "coronal": 1, "sagittal": 2}

# Slicer's default slice views: RAS direction of the screen's right and up.
_SCREEN_RIGHT_UP_RAS: dict[str, tuple[Vector, Vector]] = {
    "axial": ((-1.0, 0.0, 0.0), (0.0, 1.0, 0.0)),
    "coronal": ((-1.0, 0.0, 0.0), (0.0, 0.0, 1.0)),
    "sagittal": ((0.0, -1.0, 0.0), (0.0, 0.0, 1.0)),
}

# Below this cosine an array axis is not along the screen axis it is drawn on.
_OBLIQUE_COSINE = 0.5

_STYLES = ("fill", "outline")


def display_flips(ijk_to_ras: np.ndarray, axis: str) -> tuple[bool, bool]:
    """Flips that make a slice look like Slicer's default view of it.

    Parameters
    ----------
    ijk_to_ras : ndarray, shape (4, 4)
        The volume's IJK-to-RAS matrix (homogeneous (i, j, k, 1) to (R, A, S, 1) in mm).
    axis : {"axial", "coronal", "sagittal"}
        The view, as in :func:`render_overlay_png`.

    Returns
    -------
    (bool, bool)
        ``(flip_lr, flip_ud)``: whether to mirror the image's columns (left-right) and
        rows (up-down) so that the screen's right and up point where Slicer's do.

    Raises
    ------
    ValueError
        If the axis is unknown or the matrix is not a finite 4 x 4 matrix.

    Notes
    -----
    A warning is logged when an in-plane array axis is closer to the slice normal than
    to its screen direction (oblique or permuted volumes): the picture is then not a
    true view of that name.
    """
    _check_axis(axis)
    matrix = np.asarray(ijk_to_ras, dtype=np.float64)
    if matrix.shape != (4, 4) or not np.all(np.isfinite(matrix)):
        raise ValueError(f"ijk_to_ras must be a finite 4x4 matrix, got shape {matrix.shape}")

    row_axis, col_axis = _in_plane_axes(axis)
    screen_right, screen_up = _SCREEN_RIGHT_UP_RAS[axis]
    col_cosine = _direction_cosine(matrix, col_axis, screen_right)
    row_cosine = _direction_cosine(matrix, row_axis, screen_up)
    if min(abs(col_cosine), abs(row_cosine)) < _OBLIQUE_COSINE:
        logger.warning(
            "Volume axes are far from the %s view's screen axes; the picture shows array "
            "slices, not a resliced %s view",
            axis,
            axis,
        )

    # Rows are drawn downwards, so they need a flip when they already point up.
    return bool(col_cosine < 0), bool(row_cosine > 0)


def render_overlay_png(
    path: str | os.PathLike[str],
    volume: np.ndarray,
    masks: Sequence[np.ndarray] | Mapping[str, np.ndarray],
    spacing: Sequence[float],
    axis: str = "axial",
    index: int | None = None,
    window: tuple[float, float] = DEFAULT_WINDOW,
    colors: Sequence[Color] | None = None,
    *,
    labels: Sequence[str] | None = None,
    styles: Sequence[str] | None = None,
    flip_lr: bool | None = None,
    flip_ud: bool | None = None,
    pixel_mm: float | None = None,
    fill_alpha: float = 0.35,
    line_width: int = 2,
    legend: bool = True,
) -> int:
    """Write a PNG of one slice of a CT volume with masks drawn over it.

    Parameters
    ----------
    path : str or path-like
        Output file; its folder must exist.
    volume : ndarray, shape (k, j, i)
        Intensities (HU for CT).
    masks : sequence of ndarray or mapping of str to ndarray, each shape (k, j, i)
        Binary masks (bool or 0/1) on the volume's grid. With a mapping the keys are the
        legend labels. May be empty.
    spacing : sequence of 3 float
        Voxel size in mm along (k, j, i).
    axis : {"axial", "coronal", "sagittal"}
        Which slice to show; see the module docstring.
    index : int, optional
        Slice index along the sliced axis. None picks the slice holding the most voxels
        of the first mask (the lowest such index on ties), or the middle slice when the
        first mask is empty or there are no masks.
    window : (float, float)
        Display window ``(center, width)`` in volume units; the default suits CT lungs,
        :func:`auto_window` gives one for any volume.
    colors : sequence of (int, int, int), optional
        RGB colour of each mask; defaults to yellow, green, blue, red, violet.
    labels : sequence of str, optional
        Legend text of each mask (ignored when ``masks`` is a mapping); defaults to
        "mask 1", "mask 2", ...
    styles : sequence of {"fill", "outline"}, optional
        "fill" draws a semi-transparent fill plus outline, "outline" only the outline.
        Defaults to filling the first mask and outlining the others.
    flip_lr, flip_ud : bool, optional
        Mirror the image's columns or rows. None uses :func:`display_flips` with an
        identity (RAS-aligned) IJK-to-RAS matrix.
    pixel_mm : float, optional
        Size of one output pixel in mm (square). None uses the finest in-plane spacing,
        divided by a whole factor (at most 8) until the long side has 512 pixels, and
        smaller still for thin slices, see :func:`output_size`.
    fill_alpha : float
        Opacity of fills, 0 to 1.
    line_width : int
        Outline thickness in output pixels.
    legend : bool
        Draw the view name, slice index and mask labels in the top-left corner. The
        picture is then at least ``MIN_SHORT_SIDE_PX`` pixels on each side and larger than
        the legend: a slice that is smaller gets a border (``BORDER_COLOR``) around it.
        Skipped with a warning when Pillow has no default font.

    Returns
    -------
    int
        The slice index shown.

    Raises
    ------
    ValueError
        For an unknown axis or style, masks whose shape differs from the volume's,
        non-positive spacing, window width or ``pixel_mm``.
    IndexError
        If ``index`` is outside the volume.
    """
    mask_list, label_list = _split_masks(masks, labels)
    _check_inputs(volume, mask_list, spacing, axis, window)
    color_list = _pick_colors(colors, len(mask_list))
    style_list = _pick_styles(styles, len(mask_list))
    if flip_lr is None or flip_ud is None:
        default_lr, default_ud = display_flips(np.eye(4), axis)
        flip_lr = default_lr if flip_lr is None else flip_lr
        flip_ud = default_ud if flip_ud is None else flip_ud

    sliced = _SLICED_AXIS[axis]
    index = _resolve_index(mask_list, volume.shape, sliced, index)
    gray = _window_to_uint8(np.take(volume, index, axis=sliced), window)
    planes = [np.take(m, index, axis=sliced) != 0 for m in mask_list]
    gray, planes = _apply_flips(gray, planes, flip_lr, flip_ud)

    row_axis, col_axis = _in_plane_axes(axis)
    pixel_size = (float(spacing[row_axis]), float(spacing[col_axis]))
    size = output_size(gray.shape, pixel_size, pixel_mm)
    image = _compose(gray, planes, size, color_list, style_list, fill_alpha, line_width)
    if legend:
        image = _with_legend(image, f"{axis} {'kji'[sliced]}={index}", label_list, color_list)

    image.save(os.fspath(path), format="PNG")
    logger.debug("Wrote %s slice %d to %s (%dx%d px)", axis, index, path, *image.size)
    return index


def auto_window(volume: npt.ArrayLike) -> tuple[float, float]:
    """Display window ``(center, width)`` that suits ``volume``, for ``window=``.

    Parameters
    ----------
    volume : array-like, any shape
        Intensities; NaN and infinite values are ignored. Volumes of more than
        ``AUTO_WINDOW_SAMPLES`` voxels are read on a regular subgrid.

    Returns
    -------
    (float, float)
        ``DEFAULT_WINDOW`` (CT lung window) when the data look like CT in Hounsfield
        units: at least ``MIN_AIR_FRACTION`` of the voxels within ``AIR_HU`` and a 99th
        percentile below ``BONE_LIMIT_HU``. Otherwise the window from the 1st to the 99th
        percentile, so a few extreme voxels do not wash out the picture. A constant
        volume gets a positive width around its value.

    Raises
    ------
    ValueError
        If the volume is empty or not real-valued.
    """
    sample = _intensity_sample(volume)
    if sample.size == 0:
        logger.warning("Volume has no finite intensities; using the CT lung window")
        return DEFAULT_WINDOW

    low, high = (float(v) for v in np.percentile(sample, AUTO_WINDOW_PERCENTILES))
    if _looks_like_ct_hu(sample, high):
        logger.debug("Volume looks like CT in HU; using the lung window %s", DEFAULT_WINDOW)
        return DEFAULT_WINDOW
    return _window_between(low, high)


def _intensity_sample(volume: npt.ArrayLike) -> np.ndarray:
    """Finite intensities of ``volume``, read on a subgrid when it is large."""
    array = np.atleast_1d(np.asarray(volume))
    if array.size == 0:
        raise ValueError("the volume is empty; there is nothing to choose a window from")
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise ValueError(f"the volume must hold real numbers, got dtype {array.dtype}")
    if np.iscomplexobj(array):
        raise ValueError("the volume must hold real numbers, got complex values")

    # The same step on every axis keeps the subgrid spread over the whole volume.
    step = max(1, math.ceil((array.size / AUTO_WINDOW_SAMPLES) ** (1.0 / array.ndim)))
    values = array[(slice(None, None, step),) * array.ndim].astype(np.float64).ravel()
    return values[np.isfinite(values)]


def _looks_like_ct_hu(sample: np.ndarray, p99: float) -> bool:
    air = np.count_nonzero((sample >= AIR_HU[0]) & (sample <= AIR_HU[1]))
    return bool(air >= MIN_AIR_FRACTION * sample.size and p99 <= BONE_LIMIT_HU)


def _window_between(low: float, high: float) -> tuple[float, float]:
    # Halves first: the sum of two huge floats could overflow.
    center = low / 2.0 + high / 2.0
    width = high - low
    if not math.isfinite(width):
        width = float(np.finfo(np.float64).max)
    elif width <= 0.0:
        # A constant volume still needs a positive width; its value then shows mid-gray.
        width = max(abs(center) * 0.1, 1.0)
    return center, width


def output_size(
    shape: tuple[int, ...], pixel_size_mm: tuple[float, float], pixel_mm: float | None = None
) -> tuple[int, int]:
    """Width and height in pixels of a slice resampled to square pixels.

    Parameters
    ----------
    shape : (int, int)
        Slice shape (rows, columns).
    pixel_size_mm : (float, float)
        Spacing in mm between rows and between columns.
    pixel_mm : float, optional
        Output pixel size in mm. None enlarges small slices until the long side has
        ``MIN_LONG_SIDE_PX`` pixels (by a whole factor of the finest spacing, at most
        ``MAX_UPSAMPLING``), and thin slices until the short side has
        ``MIN_SHORT_SIDE_PX`` pixels, as far as the long side stays within
        ``MAX_LONG_SIDE_PX``.

    Returns
    -------
    (int, int)
        ``(width, height)`` as PIL expects it, each at least 1.
    """
    height_mm = shape[0] * pixel_size_mm[0]
    width_mm = shape[1] * pixel_size_mm[1]
    if pixel_mm is None:
        pixel_mm = _default_pixel_mm(height_mm, width_mm, min(pixel_size_mm))
    if not (math.isfinite(pixel_mm) and pixel_mm > 0):
        raise ValueError(f"pixel_mm must be a positive number of mm, got {pixel_mm}")
    return max(1, round(width_mm / pixel_mm)), max(1, round(height_mm / pixel_mm))


def _default_pixel_mm(height_mm: float, width_mm: float, finest_mm: float) -> float:
    long_mm, short_mm = max(height_mm, width_mm), min(height_mm, width_mm)
    factor = min(MAX_UPSAMPLING, max(1, math.ceil(MIN_LONG_SIDE_PX * finest_mm / long_mm)))
    pixel_mm = finest_mm / factor

    # A one-slice coronal view would otherwise be a strip 2 pixels high.
    short_enough_mm = short_mm / MIN_SHORT_SIDE_PX
    long_cap_mm = long_mm / MAX_LONG_SIDE_PX
    return min(pixel_mm, max(short_enough_mm, long_cap_mm))


def _check_axis(axis: str) -> None:
    if axis not in _SLICED_AXIS:
        raise ValueError(f"axis must be one of {sorted(_SLICED_AXIS)}, got {axis!r}")


def _in_plane_axes(axis: str) -> tuple[int, int]:
    """Array axes shown as image rows and columns, in (k, j, i) numbering."""
    sliced = _SLICED_AXIS[axis]
    row_axis, col_axis = (other for other in range(3) if other != sliced)
    return row_axis, col_axis


def _direction_cosine(matrix: np.ndarray, array_axis: int, screen_ras: Vector) -> float:
    # Array axis 0 is k, the matrix's third column.
    direction = matrix[:3, 2 - array_axis]
    norm = float(np.linalg.norm(direction))
    if norm == 0:
        raise ValueError("ijk_to_ras has a zero-length axis (a spacing is zero)")
    return float(np.dot(direction / norm, screen_ras))


def _split_masks(
    masks: Sequence[np.ndarray] | Mapping[str, np.ndarray], labels: Sequence[str] | None
) -> tuple[list[np.ndarray], list[str]]:
    if isinstance(masks, Mapping):
        return [np.asarray(m) for m in masks.values()], [str(key) for key in masks]
    mask_list = [np.asarray(m) for m in masks]
    if labels is None:
        return mask_list, [f"mask {number}" for number in range(1, len(mask_list) + 1)]
    if len(labels) != len(mask_list):
        raise ValueError(f"got {len(labels)} labels for {len(mask_list)} masks")
    return mask_list, [str(label) for label in labels]


def _check_inputs(
    volume: np.ndarray,
    masks: list[np.ndarray],
    spacing: Sequence[float],
    axis: str,
    window: tuple[float, float],
) -> None:
    _check_axis(axis)
    if volume.ndim != 3:
        raise ValueError(f"volume must be a (k, j, i) array, got shape {volume.shape}")
    for number, mask in enumerate(masks, start=1):
        if mask.shape != volume.shape:
            raise ValueError(
                f"mask {number} has shape {mask.shape}, the volume {volume.shape}; "
                "masks must be on the volume's grid"
            )
    if len(spacing) != 3 or not all(math.isfinite(s) and s > 0 for s in spacing):
        raise ValueError(f"spacing must be 3 positive mm values (k, j, i), got {spacing}")
    if not window[1] > 0:
        raise ValueError(f"window width must be positive, got window {window}")


def _pick_colors(colors: Sequence[Color] | None, count: int) -> list[Color]:
    palette = list(colors) if colors else list(DEFAULT_COLORS)
    # Cycling beats failing: a sixth mask gets the first colour again.
    chosen = (palette[number % len(palette)] for number in range(count))
    return [(int(color[0]), int(color[1]), int(color[2])) for color in chosen]


def _pick_styles(styles: Sequence[str] | None, count: int) -> list[str]:
    if styles is None:
        return ["fill" if number == 0 else "outline" for number in range(count)]
    if len(styles) != count or any(style not in _STYLES for style in styles):
        raise ValueError(f"styles must be one of {_STYLES} per mask ({count}), got {styles}")
    return list(styles)


def _resolve_index(
    masks: list[np.ndarray], shape: tuple[int, ...], sliced: int, index: int | None
) -> int:
    size = shape[sliced]
    if index is not None:
        if not 0 <= index < size:
            raise IndexError(f"slice index {index} is outside 0..{size - 1} of axis {sliced}")
        return int(index)
    if masks:
        other_axes = tuple(axis for axis in range(3) if axis != sliced)
        counts = np.count_nonzero(masks[0], axis=other_axes)
        if counts.any():
            return int(np.argmax(counts))
    logger.info("First mask is empty or missing; showing the middle slice")
    return size // 2


def _window_to_uint8(plane: np.ndarray, window: tuple[float, float]) -> np.ndarray:
    center, width = float(window[0]), float(window[1])
    scaled = (plane.astype(np.float64) - (center - width / 2.0)) / width
    return np.round(np.clip(scaled, 0.0, 1.0) * 255.0).astype(np.uint8)


def _apply_flips(
    gray: np.ndarray, planes: list[np.ndarray], flip_lr: bool, flip_ud: bool
) -> tuple[np.ndarray, list[np.ndarray]]:
    def flip(array: np.ndarray) -> np.ndarray:
        if flip_lr:
            array = array[:, ::-1]
        if flip_ud:
            array = array[::-1, :]
        return array

    return flip(gray), [flip(plane) for plane in planes]


def _compose(
    gray: np.ndarray,
    planes: list[np.ndarray],
    size: tuple[int, int],
    colors: list[Color],
    styles: list[str],
    fill_alpha: float,
    line_width: int,
) -> Image.Image:
    # Bilinear keeps the CT readable when enlarged; masks stay nearest so their edges
    # are the voxel edges the metrics see.
    background = Image.fromarray(np.ascontiguousarray(gray)).resize(size, Image.Resampling.BILINEAR)
    rgb = np.repeat(np.asarray(background, dtype=np.float64)[..., None], 3, axis=2)
    scaled = [_resize_mask(plane, size) for plane in planes]

    # Fills first, so no fill hides another mask's outline.
    for mask, color, style in zip(scaled, colors, styles, strict=True):
        if style == "fill":
            rgb[mask] = (1.0 - fill_alpha) * rgb[mask] + fill_alpha * np.asarray(color)
    for mask, color in zip(scaled, colors, strict=True):
        rgb[_outline(mask, line_width)] = color

    return Image.fromarray(np.round(rgb).astype(np.uint8))


def _resize_mask(plane: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    image = Image.fromarray(np.ascontiguousarray(plane).astype(np.uint8) * 255)
    return np.asarray(image.resize(size, Image.Resampling.NEAREST)) > 127


def _outline(mask: np.ndarray, line_width: int) -> np.ndarray:
    if not mask.any() or line_width < 1:
        return np.zeros_like(mask)
    interior = ndimage.binary_erosion(mask, iterations=line_width, border_value=0)
    return mask & ~interior


def _with_legend(
    image: Image.Image, title: str, labels: list[str], colors: list[Color]
) -> Image.Image:
    """``image`` with the legend drawn, bordered first if it is too small for it."""
    try:
        font = ImageFont.load_default()
    except OSError as error:
        logger.warning("Pillow has no default font (%s); the picture has no legend", error)
        return image

    lines = [title, *labels]
    legend_width, legend_height = _legend_size(font, lines)
    canvas = _bordered(
        image,
        max(MIN_SHORT_SIDE_PX, legend_width + 8),
        max(MIN_SHORT_SIDE_PX, legend_height + 8),
    )
    _draw_legend(canvas, font, lines, colors)
    return canvas


def _bordered(image: Image.Image, min_width: int, min_height: int) -> Image.Image:
    """``image`` centred on a BORDER_COLOR canvas at least ``min_width`` x ``min_height``."""
    width, height = max(image.width, min_width), max(image.height, min_height)
    if (width, height) == image.size:
        return image
    canvas = Image.new("RGB", (width, height), BORDER_COLOR)
    canvas.paste(image, ((width - image.width) // 2, (height - image.height) // 2))
    return canvas


def _legend_size(font: Font, lines: list[str]) -> tuple[int, int]:
    """Width and height in pixels of the legend box, measured as it will be drawn."""
    draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    line_height = _text_height(draw, font) + 4
    swatch = line_height - 6
    width = max(draw.textlength(line, font=font) for line in lines) + swatch + 14
    return math.ceil(2 + width), 4 + line_height * len(lines)


def _draw_legend(image: Image.Image, font: Font, lines: list[str], colors: list[Color]) -> None:
    draw = ImageDraw.Draw(image)
    line_height = _text_height(draw, font) + 4
    swatch = line_height - 6
    width, height = _legend_size(font, lines)
    draw.rectangle((2, 2, width, height), fill=(0, 0, 0))

    title, *labels = lines
    draw.text((6, 4), title, fill=(255, 255, 255), font=font)
    for number, (label, color) in enumerate(zip(labels, colors, strict=True), start=1):
        top = 4 + number * line_height
        draw.rectangle((6, top + 2, 6 + swatch, top + 2 + swatch), fill=color)
        draw.text((10 + swatch, top), label, fill=(255, 255, 255), font=font)


def _text_height(draw: ImageDraw.ImageDraw, font: Font) -> int:
    _, top, _, bottom = draw.textbbox((0, 0), "Ag", font=font)
    return int(bottom - top)
