"""Exception types raised by the brush core."""


class AdaptiveBrushError(Exception):
    """Base class of every error the Adaptive Brush raises on purpose."""


class ParameterError(AdaptiveBrushError, ValueError):
    """A parameter name, value or preset is not valid."""


class BrushGeometryError(AdaptiveBrushError, ValueError):
    """The brush cannot be placed (outside the volume, degenerate plane, bad matrix)."""


class BrushOutsideVolumeError(BrushGeometryError):
    """The brush centre lies outside the volume (a drag may simply leave the image)."""


class AlgorithmError(AdaptiveBrushError, RuntimeError):
    """An algorithm failed on its region of interest."""
