"""Loading sample data: clear errors for files that cannot be a source volume."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk
from SegmentEditorAdaptiveBrushTesterLib.scene.sample_data import SampleDataError, load_volume


@pytest.mark.parametrize(
    ("write", "message"),
    [
        (
            lambda p: sitk.WriteImage(
                sitk.GetImageFromArray(np.zeros((4, 5, 6, 3), np.uint8), isVector=True), str(p)
            ),
            "vector, RGB and 4D images are not supported",
        ),
        (lambda p: p.write_text("not an image"), "not an image file"),
        (lambda p: p.write_bytes(b""), "not an image file"),
    ],
)
def test_unusable_files_name_the_problem_and_leave_no_nodes(tmp_path, clean_scene, write, message):
    path = tmp_path / "volume.nrrd"
    write(path)
    with pytest.raises(SampleDataError, match=message):
        load_volume(clean_scene, str(path))


def test_sample_data_names_need_desktop_slicer(clean_scene):
    with pytest.raises(SampleDataError, match="only be downloaded in desktop Slicer"):
        load_volume(clean_scene, "MRHead")


def test_a_float_volume_loads(tmp_path, clean_scene):
    path = tmp_path / "float.nii.gz"
    sitk.WriteImage(sitk.GetImageFromArray(np.ones((3, 4, 5), np.float32)), str(path))
    volume = load_volume(clean_scene, str(path))
    try:
        assert volume.GetImageData().GetDimensions() == (5, 4, 3)
    finally:
        for n in range(volume.GetNumberOfDisplayNodes()):
            clean_scene.scene.RemoveNode(volume.GetNthDisplayNode(n))
        clean_scene.scene.RemoveNode(volume.GetStorageNode())
        clean_scene.scene.RemoveNode(volume)


def test_an_unreadable_reference_is_named_as_the_reference(tmp_path, clean_scene):
    from SegmentEditorAdaptiveBrushTesterLib.scene.sample_data import load_reference_array

    path = tmp_path / "label.nrrd"
    path.write_text("not an image")
    volume = load_volume(clean_scene, "default")
    try:
        with pytest.raises(SampleDataError, match="as the reference segmentation"):
            load_reference_array(clean_scene, str(path), "lung", volume)
    finally:
        for n in range(volume.GetNumberOfDisplayNodes()):
            clean_scene.scene.RemoveNode(volume.GetNthDisplayNode(n))
        clean_scene.scene.RemoveNode(volume.GetStorageNode())
        clean_scene.scene.RemoveNode(volume)
