"""Shared fixtures: the headless Slicer context and the embedded chest CT."""

from __future__ import annotations

import logging

import pytest

logging.getLogger("SegmentEditorAdaptiveBrushLib").setLevel(logging.DEBUG)


@pytest.fixture(scope="session")
def context():
    """The process-wide headless scene (real slicer-core, no mocks)."""
    from SegmentEditorAdaptiveBrushLib.scene.context import slicer_context

    return slicer_context()


@pytest.fixture
def clean_scene(context):
    """Fails the test if it leaves nodes behind in the scene."""
    before = context.scene.GetNumberOfNodes()
    yield context
    after = context.scene.GetNumberOfNodes()
    assert after == before, f"test left {after - before} nodes in the scene"
