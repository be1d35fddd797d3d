"""forensiclib: the library behind the notebooks reproducing two image-forensics papers.

The package is grouped by paper and by concept:

- `forensiclib.provenance`: paper 1, Amerini, Uricchio, Caldelli 2017: which social network an image
  came from, from histograms of its quantized DCT coefficients (jpeg, features, dct_cnn, experiment,
  identifier);
- `forensiclib.unified`: paper 2, Mayer, Bayar, Stamm 2018: unified deep features with the
  constrained CNN (layers, mislnet, patches, single_task, transfer, multitask, trees);
- `forensiclib.data`: simulators, dataset builders, loaders of the real datasets, splits;
- `forensiclib.runner`: the notebook runner, session records, manifest, report, exercises, command line;
- at the top: what both papers share (`training`, `evaluate`, `plots`, `paper`, `cache`, `paths`, `errors`).

Public names are re-exported here and imported on first use, so that `import forensiclib` stays
light (no TensorFlow until a model is asked for); `__init__.pyi` lists them for editors.
"""

from __future__ import annotations

import importlib
import os
import sys

from . import _tf_log

__version__ = "0.1.0"

#: TensorFlow's oneDNN kernels, on every x86 CPU. TensorFlow turns them on by itself only on CPUs with AVX-512's
#: neural-network instructions; elsewhere it falls back to its Eigen kernels, which train MISLnet at 64x64 and the
#: 1-D CNN about 1.3 times slower (`benchmarks/bench_training.py` under `ONEDNN_MAX_CPU_ISA=AVX2`, docs/BENCHMARKS.md).
#: Set before TensorFlow is imported, and only where the environment does not say otherwise
#: (`TF_ENABLE_ONEDNN_OPTS=0` keeps Eigen's kernels: exact run-to-run at 128x128 and up, `benchmarks/bench_determinism.py`).
ONEDNN_DEFAULT = "1"
if "tensorflow" not in sys.modules:
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", ONEDNN_DEFAULT)

_tf_log.install()  # TensorFlow's start-up log obeys TF_CPP_MIN_LOG_LEVEL (see `_tf_log`); no TensorFlow imported here

_EXPORTS = {
    "ImageReadError": "errors",
    "ParameterError": "errors",
    "DCTImage": "provenance.jpeg",
    "QualityEstimate": "provenance.jpeg",
    "read_dct": "provenance.jpeg",
    "block_dct": "provenance.jpeg",
    "estimate_quality": "provenance.jpeg",
    "ijg_quantization_table": "provenance.jpeg",
    "is_jpeg": "provenance.jpeg",
    "encode_jpeg": "provenance.jpeg",
    "PHOTOS": "data.photos",
    "load_photo": "data.photos",
    "ZIGZAG": "provenance.features",
    "FeatureParams": "provenance.features",
    "FeatureSet": "provenance.features",
    "PatchFeatures": "provenance.features",
    "SkippedFile": "provenance.features",
    "zigzag_modes": "provenance.features",
    "dct_histograms": "provenance.features",
    "image_features": "provenance.features",
    "extract_features": "provenance.features",
    "project_root": "paths",
    "results_dir": "paths",
    "cache_dir": "paths",
    "BayarConstraint": "unified.layers",
    "ConstrainedConv2D": "unified.layers",
    "CeilPooling2D": "unified.layers",
    "SHARE_DEPTHS": "unified.mislnet",
    "dct_cnn": "provenance.dct_cnn",
    "mislnet": "unified.mislnet",
    "compile_mislnet": "unified.mislnet",
    "transfer_model": "unified.transfer",
    "feature_extractor": "unified.transfer",
    "deep_features": "unified.transfer",
    "ArrayFile": "data.patchfile",
    "multitask_model": "unified.multitask",
    "check_tied_legs": "unified.multitask",
    "TiedLegs": "unified.multitask",
    "paired_dataset": "unified.multitask",
    "TrainResult": "training",
    "train": "training",
    "halving_schedule": "training",
    "early_stopping": "training",
    "TrainingStatus": "training",
    "training_status": "training",
    "confusion_matrix_percent": "evaluate",
    "accuracy": "evaluate",
    "true_positive_rates": "evaluate",
    "majority_vote": "evaluate",
    "bagged_trees": "evaluate",
    "extra_trees": "evaluate",
    "confusion_table": "evaluate",
    "make_scenes": "data.synth.scenes",
    "iter_scenes": "data.synth.scenes",
    "CameraModel": "data.synth.cameras",
    "CameraDevice": "data.synth.cameras",
    "camera_models": "data.synth.cameras",
    "camera_devices": "data.synth.cameras",
    "capture": "data.synth.cameras",
    "capture_jpeg": "data.synth.cameras",
    "MANIPULATIONS": "data.synth.manipulations",
    "manipulate": "data.synth.manipulations",
    "green_blocks": "data.synth.manipulations",
    "ImageDataset": "data.datasets",
    "split_by_group": "data.datasets",
    "split_by_device": "data.datasets",
    "load_manifest": "data.datasets",
    "BUILDERS": "data.builders",
    "build_dataset": "data.builders",
    "PlatformProfile": "data.synth.platforms",
    "PLATFORMS": "data.synth.platforms",
    "get_platform": "data.synth.platforms",
    "share": "data.synth.platforms",
    "share_chain": "data.synth.platforms",
    "measure_platform": "data.synth.measure",
    "PlatformMeasurement": "data.synth.measure",
    "load_ucid_social": "data.loaders",
    "load_public_social": "data.loaders",
    "load_iplab": "data.loaders",
    "load_dresden": "data.loaders",
    "load_vision": "data.loaders",
    "load_fodb": "data.loaders",
    "ProvenanceSettings": "provenance.experiment",
    "run_provenance": "provenance.experiment",
    "paper1_dataset": "provenance.experiment",
    "ProvenanceEstimates": "provenance.evaluation",
    "ProvenanceSetup": "provenance.evaluation",
    "evaluate_provenance": "provenance.evaluation",
    "provenance_setup": "provenance.evaluation",
    "verdict_over_seeds": "provenance.evaluation",
    "confusion_lead": "provenance.evaluation",
    "TableVote": "provenance.evaluation",
    "table_vote": "provenance.evaluation",
    "PatchSet": "unified.patches",
    "patches_from_dataset": "unified.patches",
    "UnifiedSettings": "unified.common",
    "train_single_task": "unified.single_task",
    "run_transfer": "unified.transfer",
    "transfer_sweep": "unified.transfer",
    "multitask_sweep": "unified.multitask",
    "validation_split": "unified.patches",
    "paper2_setup": "unified.experiment",
    "share_depth_sweep": "unified.experiment",
    "capped_mark": "unified.experiment",
    "seed_claim": "unified.experiment",
    "train_multitask": "unified.multitask",
    "evaluate_multitask": "unified.multitask",
    "run_multitask": "unified.multitask",
    "deep_feature_trees": "unified.trees",
    "paper2_patches": "unified.patches",
    "Session": "runner.session",
    "start_session": "runner.session",
    "seed_everything": "seeding",
    "save_identifier": "provenance.identifier",
    "load_identifier": "provenance.identifier",
    "identify": "provenance.identifier",
    "TableEvidence": "provenance.table_evidence",
    "HeaderEvidence": "provenance.table_evidence",
    "Smoothing": "provenance.table_evidence",
    "luminance_table": "provenance.table_evidence",
    "JPEGHeader": "provenance.header",
    "read_header": "provenance.header",
    "Combination": "provenance.combination",
    "HeaderVote": "provenance.header_vote",
    "header_vote": "provenance.header_vote",
    "shifted_calibration_set": "provenance.header_vote",
    "build_report": "runner.report",
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
    "over_seeds": "stats",
    "every_claim": "stats",
    "markdown_table": "tables",
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
