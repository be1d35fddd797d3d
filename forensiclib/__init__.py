"""forensiclib: the library behind the notebooks reproducing two image-forensics papers.

- Amerini, Uricchio, Caldelli 2017: social-network provenance from DCT histograms
  (`forensiclib.jpeg`, `forensiclib.features`).
- Mayer, Bayar, Stamm 2018: unified deep features with the constrained CNN.

Public names are re-exported here and imported on first use, so that
`import forensiclib` stays light (no TensorFlow until a model is asked for).
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "ImageReadError": "errors",
    "ParameterError": "errors",
    "DCTImage": "jpeg",
    "QualityEstimate": "jpeg",
    "read_dct": "jpeg",
    "block_dct": "jpeg",
    "estimate_quality": "jpeg",
    "ijg_quantization_table": "jpeg",
    "is_jpeg": "jpeg",
    "encode_jpeg": "jpeg",
    "PHOTOS": "photos",
    "load_photo": "photos",
    "ZIGZAG": "features",
    "FeatureParams": "features",
    "FeatureSet": "features",
    "PatchFeatures": "features",
    "SkippedFile": "features",
    "zigzag_modes": "features",
    "dct_histograms": "features",
    "image_features": "features",
    "extract_features": "features",
    "project_root": "paths",
    "results_dir": "paths",
    "cache_dir": "paths",
    "BayarConstraint": "layers",
    "ConstrainedConv2D": "layers",
    "CeilPooling2D": "layers",
    "SHARE_DEPTHS": "models",
    "dct_cnn": "models",
    "mislnet": "models",
    "compile_mislnet": "models",
    "transfer_model": "transfer",
    "feature_extractor": "transfer",
    "deep_features": "transfer",
    "ArrayFile": "patchfile",
    "multitask_model": "multitask",
    "paired_dataset": "multitask",
    "TrainResult": "training",
    "train": "training",
    "halving_schedule": "training",
    "early_stopping": "training",
    "confusion_matrix_percent": "evaluate",
    "accuracy": "evaluate",
    "true_positive_rates": "evaluate",
    "majority_vote": "evaluate",
    "bagged_trees": "evaluate",
    "extra_trees": "evaluate",
    "confusion_table": "evaluate",
    "make_scenes": "synth.scenes",
    "iter_scenes": "synth.scenes",
    "CameraModel": "synth.cameras",
    "CameraDevice": "synth.cameras",
    "camera_models": "synth.cameras",
    "camera_devices": "synth.cameras",
    "capture": "synth.cameras",
    "capture_jpeg": "synth.cameras",
    "MANIPULATIONS": "synth.manipulations",
    "manipulate": "synth.manipulations",
    "green_blocks": "synth.manipulations",
    "ImageDataset": "datasets",
    "split_by_group": "datasets",
    "split_by_device": "datasets",
    "load_manifest": "datasets",
    "BUILDERS": "builders",
    "build_dataset": "builders",
    "PlatformProfile": "synth.platforms",
    "PLATFORMS": "synth.platforms",
    "get_platform": "synth.platforms",
    "share": "synth.platforms",
    "share_chain": "synth.platforms",
    "measure_platform": "synth.measure",
    "PlatformMeasurement": "synth.measure",
    "load_ucid_social": "loaders",
    "load_public_social": "loaders",
    "load_iplab": "loaders",
    "load_dresden": "loaders",
    "load_vision": "loaders",
    "load_fodb": "loaders",
    "ProvenanceSettings": "provenance",
    "run_provenance": "provenance",
    "paper1_dataset": "provenance",
    "PatchSet": "unified",
    "patches_from_dataset": "unified",
    "UnifiedSettings": "unified",
    "train_single_task": "unified",
    "run_transfer": "unified",
    "train_multitask": "unified",
    "evaluate_multitask": "unified",
    "run_multitask": "unified",
    "deep_feature_trees": "unified",
    "paper2_patches": "unified",
    "Session": "session",
    "start_session": "session",
    "seed_everything": "session",
    "save_identifier": "identifier",
    "load_identifier": "identifier",
    "identify": "identifier",
    "build_report": "report",
    "VERDICTS": "stats",
    "Estimate": "stats",
    "Verdict": "stats",
    "SeedSummary": "stats",
    "LevelEstimates": "stats",
    "accuracy_estimate": "stats",
    "class_rate_estimates": "stats",
    "paired_difference": "stats",
    "unpaired_difference": "stats",
    "level_estimates": "stats",
    "chance_level": "stats",
    "verdict": "stats",
    "across_seeds": "stats",
    "seed_verdict": "stats",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'forensiclib' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
