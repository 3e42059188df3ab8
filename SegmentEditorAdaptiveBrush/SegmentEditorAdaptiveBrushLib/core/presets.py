"""Named presets: tissue types for CT and MR that set several parameters at once.

Each preset has a ``label`` for the GUI, a ``modality`` and the ``parameters`` it sets.
"""

from __future__ import annotations

from typing import Any

PRESETS: dict[str, dict[str, Any]] = {
    "ct_lung": {
        "label": "CT lung parenchyma",
        "modality": "CT",
        "parameters": {"algorithm": "connected_threshold", "sampling_method": "mean_std",
                       "std_multiplier": 3.0, "edge_sensitivity": 40.0},
    },
}
