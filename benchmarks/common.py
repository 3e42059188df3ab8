"""What the latency and checkpoint benchmarks share: the CT-like volume, seeds, the report.

By default a 512x512x300 volume is synthesised deterministically from the chest CT that
the ``slicerio`` package ships (no network, no files outside the venv); ``--image PATH``
loads any scalar volume instead (the cropped lung CT in tests/data is 160x160x16, too small
for the target figures). Seeds are drawn inside the body with a fixed RNG seed. Results go
to one section of docs/benchmarks.md, with the machine they were measured on.
"""

from __future__ import annotations

import os
import platform
import re
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import SimpleITK as sitk  # noqa: N813  (the alias every SimpleITK user knows)
import vtk
from SegmentEditorAdaptiveBrushLib.scene.context import SlicerContext
from SegmentEditorAdaptiveBrushLib.scene.volume import ijk_to_ras, numpy_to_matrix, volume_array
from SegmentEditorAdaptiveBrushTesterLib.scene.sample_data import (
    embedded_volume_path,
    read_volume_file,
)
from vtk.util import numpy_support

TARGET_SIZE_IJK = (512, 512, 300)
TARGET_Z_SPACING_MM = 1.0

# Soft tissue, bone and lung wall are above this; air outside the body is about -1000 HU.
BODY_HU = -400.0


@dataclass
class BenchVolume:
    """A volume node in the scene and how it was made (for table headers)."""

    node: Any
    description: str

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(int(n) for n in volume_array(self.node).shape)  # type: ignore[return-value]


def synthetic_ct_image() -> tuple[sitk.Image, str]:
    """The embedded chest CT resampled to 512x512 in-plane and 1 mm slices, 300 slices.

    Linear interpolation along z keeps anatomy continuous from slice to slice (repeating
    the 10 mm slices would make brush ROIs of identical planes, unlike a real thin-slice CT).
    """
    source = sitk.ReadImage(str(embedded_volume_path()))
    size, spacing = source.GetSize(), source.GetSpacing()
    in_plane = (
        size[0] * spacing[0] / TARGET_SIZE_IJK[0],
        size[1] * spacing[1] / TARGET_SIZE_IJK[1],
    )
    total_slices = int(round(size[2] * spacing[2] / TARGET_Z_SPACING_MM))
    first = (total_slices - TARGET_SIZE_IJK[2]) // 2
    new_spacing = (in_plane[0], in_plane[1], TARGET_Z_SPACING_MM)
    # Centres of the first output voxel: same field of view, first slice ``first`` mm up.
    start_index = (
        0.5 * (in_plane[0] / spacing[0]) - 0.5,
        0.5 * (in_plane[1] / spacing[1]) - 0.5,
        (first + 0.5) * TARGET_Z_SPACING_MM / spacing[2] - 0.5,
    )
    origin = source.TransformContinuousIndexToPhysicalPoint(start_index)
    resampled = sitk.Resample(
        source,
        TARGET_SIZE_IJK,
        sitk.Transform(),
        sitk.sitkLinear,
        origin,
        new_spacing,
        source.GetDirection(),
        -1024.0,
        sitk.sitkInt16,
    )
    description = (
        f"slicerio CTChest4.nrrd ({size[0]}x{size[1]}x{size[2]}, {spacing[0]:.2f}x"
        f"{spacing[1]:.2f}x{spacing[2]:.1f} mm) resampled (linear) to "
        f"{TARGET_SIZE_IJK[0]}x{TARGET_SIZE_IJK[1]} in-plane at {in_plane[0]:.3f} mm and to "
        f"{TARGET_Z_SPACING_MM:.1f} mm slices, central {TARGET_SIZE_IJK[2]} of {total_slices} "
        f"slices kept: {TARGET_SIZE_IJK[0]}x{TARGET_SIZE_IJK[1]}x{TARGET_SIZE_IJK[2]} int16"
    )
    return resampled, description


def image_ijk_to_ras(image: sitk.Image) -> np.ndarray:
    """IJKToRAS (4x4, mm) of a SimpleITK image, whose physical space is LPS."""
    direction = np.asarray(image.GetDirection(), dtype=np.float64).reshape(3, 3)
    matrix = np.eye(4)
    matrix[:3, :3] = direction * np.asarray(image.GetSpacing())[None, :]
    matrix[:3, 3] = image.GetOrigin()
    lps_to_ras = np.diag([-1.0, -1.0, 1.0, 1.0])
    return lps_to_ras @ matrix


def add_volume_node(
    context: SlicerContext, voxels: np.ndarray, matrix: np.ndarray, name: str
) -> Any:
    """A vtkMRMLScalarVolumeNode holding (k, j, i) ``voxels`` with IJKToRAS ``matrix``."""
    data = vtk.vtkImageData()
    data.SetDimensions(voxels.shape[2], voxels.shape[1], voxels.shape[0])
    scalars = numpy_support.numpy_to_vtk(np.ascontiguousarray(voxels).ravel(), deep=True)
    data.GetPointData().SetScalars(scalars)
    node = context.scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", name)
    node.SetIJKToRASMatrix(numpy_to_matrix(matrix))
    node.SetAndObserveImageData(data)
    node.CreateDefaultDisplayNodes()
    return node


def load_bench_volume(context: SlicerContext, image_path: str | None) -> BenchVolume:
    """The benchmark volume: ``image_path`` read as it is, or the synthetic 512x512x300 CT."""
    if image_path:
        node = read_volume_file(context, Path(image_path))
        dims = node.GetImageData().GetDimensions()
        spacing = node.GetSpacing()
        description = (
            f"{Path(image_path).name}: {dims[0]}x{dims[1]}x{dims[2]}, "
            f"{spacing[0]:.3f}x{spacing[1]:.3f}x{spacing[2]:.3f} mm"
        )
        return BenchVolume(node, description)
    image, description = synthetic_ct_image()
    node = add_volume_node(
        context, sitk.GetArrayViewFromImage(image), image_ijk_to_ras(image), "BenchCT"
    )
    return BenchVolume(node, description)


def body_points(volume_node: Any, count: int, seed: int, margin_mm: float = 0.0) -> np.ndarray:
    """``body_points_in`` for a volume node."""
    return body_points_in(
        volume_array(volume_node), ijk_to_ras(volume_node), count, seed, margin_mm
    )


def body_points_in(
    voxels: np.ndarray, matrix: np.ndarray, count: int, seed: int, margin_mm: float = 0.0
) -> np.ndarray:
    """``count`` RAS points (mm), shape (count, 3), at random voxels inside the body.

    ``voxels`` is the (k, j, i) volume and ``matrix`` its IJKToRAS. The body is every voxel
    above ``BODY_HU`` plus what it encloses in its axial slice (the lungs), found on a grid
    coarsened 4x in-plane so that this stays around a second. Points keep ``margin_mm``
    from the volume's faces so a brush of that radius fits.
    """
    coarse = voxels[:, ::4, ::4]
    body = _filled_slices(coarse > BODY_HU)
    spacing = np.linalg.norm(matrix[:3, :3], axis=0)[::-1] * (1, 4, 4)
    edge = np.ceil(margin_mm / spacing).astype(int)
    body[: edge[0]], body[body.shape[0] - edge[0] :] = False, False
    body[:, : edge[1]], body[:, body.shape[1] - edge[1] :] = False, False
    body[:, :, : edge[2]], body[:, :, body.shape[2] - edge[2] :] = False, False
    candidates = np.argwhere(body)
    if len(candidates) == 0:
        raise ValueError("no voxel of the volume looks like body (all below -400)")
    rng = np.random.default_rng(seed)
    chosen = candidates[rng.choice(len(candidates), size=count, replace=True)]
    kji = chosen * (1, 4, 4) + rng.integers(0, 4, size=(count, 3)) * (0, 1, 1)
    kji = np.minimum(kji, np.asarray(voxels.shape) - 1)
    ijk1 = np.column_stack([kji[:, ::-1], np.ones(count)])
    return (ijk1 @ matrix.T)[:, :3]


def _filled_slices(mask: np.ndarray) -> np.ndarray:
    """Per axial slice: the mask with enclosed holes filled (the lungs inside the chest)."""
    filled = np.empty_like(mask)
    for k in range(mask.shape[0]):
        image = sitk.GetImageFromArray(mask[k].astype(np.uint8))
        filled[k] = sitk.GetArrayViewFromImage(sitk.BinaryFillhole(image)) > 0
    return filled


# Report ------------------------------------------------------------------------------------

REPORT_PATH = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
REPORT_TITLE = "# Benchmarks"


def machine_description() -> str:
    """CPU, cores, memory, OS and the versions that matter for the figures."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        names = re.findall(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.MULTILINE)
        cpu = names[0] if names else cpu
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.is_file():
        found = re.search(r"MemTotal:\s+(\d+) kB", meminfo.read_text())
        memory = f", {int(found.group(1)) / 1024**2:.0f} GB RAM" if found else ""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    versions = ", ".join(
        f"{name} {_version(name)}"
        for name in ("slicer-core", "vtk", "SimpleITK", "numpy", "scikit-image", "scipy")
    )
    return (
        f"{cpu}, {cores} cores{memory}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; {versions}"
    )


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "absent"


def today() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d")


def write_section(title: str, body: str, path: Path = REPORT_PATH) -> None:
    """Replace (or append) the ``## title`` section of the report, keeping the others."""
    text = (
        path.read_text()
        if path.is_file()
        else f"{REPORT_TITLE}\n\nSee benchmarks/README.md for how to run them.\n"
    )
    section = f"## {title}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _match: section + "\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text.rstrip("\n") + "\n")
