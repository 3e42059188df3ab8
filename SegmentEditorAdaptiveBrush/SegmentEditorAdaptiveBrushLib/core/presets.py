"""Named presets: tissue types for CT and MR that set several parameters at once.

Each preset has a ``label`` for the GUI, a ``modality`` (``CT`` or ``MR``), a one-sentence
``description`` saying when to use it, and the ``parameters`` it sets (names and values as
in ``params.py``; explicit parameters given together with a preset win over it). Every
preset sets the algorithm, the edge sensitivity and how intensities are sampled; the brush
radius is left to the user. The values were chosen on the real test cases in tests/data
and on what each tissue looks like (see docs/algorithms.md, "Presets").
"""

from __future__ import annotations

from typing import Any

PRESETS: dict[str, dict[str, Any]] = {
    "ct_lung": {
        "label": "CT lung parenchyma",
        "modality": "CT",
        "description": "Aerated lung (about -850 HU), split by a histogram threshold from soft "
        "tissue and fat at any radius; vessels inside it are filled in as holes.",
        "parameters": {
            "algorithm": "threshold_brush",
            "threshold_method": "otsu",
            "edge_sensitivity": 30.0,
            "threshold_zone": 50.0,
            "fill_holes": True,
        },
    },
    "ct_lung_nodule": {
        "label": "CT lung nodule",
        "modality": "CT",
        "description": "Solid nodule or mass surrounded by aerated lung.",
        "parameters": {
            "algorithm": "random_walker",
            "sampling_method": "mean_std",
            "std_multiplier": 2.0,
            "edge_sensitivity": 40.0,
            "threshold_zone": 50.0,
            "random_walker_beta": 2.0,
        },
    },
    "ct_soft_tissue": {
        "label": "CT soft tissue / organ",
        "modality": "CT",
        "description": "Muscle, liver, spleen or kidney (30-70 HU) against fat or other organs.",
        "parameters": {
            "algorithm": "watershed",
            "sampling_method": "mean_std",
            "std_multiplier": 2.0,
            "edge_sensitivity": 50.0,
            "threshold_zone": 50.0,
            "closing_radius_mm": 1.0,
        },
    },
    "ct_bone": {
        "label": "CT bone",
        "modality": "CT",
        "description": "Cortical and trabecular bone; the marrow cavity is filled as a hole.",
        "parameters": {
            "algorithm": "threshold_brush",
            "threshold_method": "otsu",
            "edge_sensitivity": 30.0,
            "threshold_zone": 50.0,
            "fill_holes": True,
        },
    },
    "ct_fat": {
        "label": "CT fat",
        "modality": "CT",
        "description": "Subcutaneous or visceral fat (about -100 HU).",
        "parameters": {
            "algorithm": "connected_threshold",
            "sampling_method": "percentile",
            "percentile_low": 5.0,
            "percentile_high": 95.0,
            "edge_sensitivity": 40.0,
            "threshold_zone": 50.0,
        },
    },
    "ct_vessel_contrast": {
        "label": "CT vessel with contrast",
        "modality": "CT",
        "description": "Contrast-filled artery or vein; a small zone samples the lumen only.",
        "parameters": {
            "algorithm": "region_growing",
            "sampling_method": "mean_std",
            "std_multiplier": 2.5,
            "edge_sensitivity": 60.0,
            "threshold_zone": 30.0,
            "region_growing_gradient_limit": 1.5,
        },
    },
    "mr_brain_tumor_t1c": {
        "label": "MR brain tumour (T1 post-contrast)",
        "modality": "MR",
        "description": "Enhancing tumour rim and core on T1 after gadolinium.",
        "parameters": {
            "algorithm": "geodesic_distance",
            "sampling_method": "mean_std",
            "std_multiplier": 2.0,
            "edge_sensitivity": 40.0,
            "threshold_zone": 25.0,
            "geodesic_intensity_weight": 1.5,
        },
    },
    "mr_white_matter": {
        "label": "MR white matter (T1)",
        "modality": "MR",
        "description": "Cerebral white matter, bright against grey matter on T1.",
        "parameters": {
            "algorithm": "confidence_connected",
            "sampling_method": "mean_std",
            "confidence_multiplier": 2.0,
            "confidence_iterations": 2,
            "edge_sensitivity": 50.0,
            "threshold_zone": 40.0,
        },
    },
    "mr_ventricles": {
        "label": "MR ventricles / CSF (T1)",
        "modality": "MR",
        "description": "Cerebrospinal fluid, dark on T1 (on T2 too: polarity follows the seed).",
        "parameters": {
            "algorithm": "threshold_brush",
            "threshold_method": "li",
            "edge_sensitivity": 40.0,
            "threshold_zone": 50.0,
        },
    },
    "mr_breast_lesion": {
        "label": "MR breast lesion",
        "modality": "MR",
        "description": "Small enhancing or bright lesion in fibroglandular tissue.",
        "parameters": {
            "algorithm": "geodesic_distance",
            "sampling_method": "mean_std",
            "std_multiplier": 2.0,
            "edge_sensitivity": 40.0,
            "threshold_zone": 50.0,
        },
    },
    "mr_prostate": {
        "label": "MR prostate (T2)",
        "modality": "MR",
        "description": "Prostate gland on T2, low contrast with its surroundings: smooth front.",
        "parameters": {
            "algorithm": "level_set",
            "sampling_method": "gmm",
            "gmm_components": 3,
            "edge_sensitivity": 50.0,
            "threshold_zone": 40.0,
            "level_set_curvature": 2.0,
        },
    },
}
