"""Exception types raised by the scene layer."""

from ..core.errors import AdaptiveBrushError


class SceneError(AdaptiveBrushError, RuntimeError):
    """The MRML scene is not in a state the brush can work with."""


class GeometryMismatchError(SceneError):
    """A segmentation or reference does not share the source volume's voxel grid."""
