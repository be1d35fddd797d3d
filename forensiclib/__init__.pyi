"""Type stub of `forensiclib`: the public names and where they live, for editors and type checkers.

`forensiclib/__init__.py` imports them lazily; `tests/test_api.py` checks that this file names the same ones."""

from .data.builders import BUILDERS as BUILDERS, build_dataset as build_dataset
from .data.datasets import (
    ImageDataset as ImageDataset,
    load_manifest as load_manifest,
    split_by_device as split_by_device,
    split_by_group as split_by_group,
)
from .data.loaders import (
    load_dresden as load_dresden,
    load_fodb as load_fodb,
    load_iplab as load_iplab,
    load_public_social as load_public_social,
    load_ucid_social as load_ucid_social,
    load_vision as load_vision,
)
from .data.patchfile import ArrayFile as ArrayFile
from .data.photos import PHOTOS as PHOTOS, load_photo as load_photo
from .data.synth.cameras import (
    CameraDevice as CameraDevice,
    CameraModel as CameraModel,
    camera_devices as camera_devices,
    camera_models as camera_models,
    capture as capture,
    capture_jpeg as capture_jpeg,
)
from .data.synth.manipulations import (
    MANIPULATIONS as MANIPULATIONS,
    green_blocks as green_blocks,
    manipulate as manipulate,
)
from .data.synth.measure import (
    PlatformMeasurement as PlatformMeasurement,
    measure_platform as measure_platform,
)
from .data.synth.platforms import (
    PLATFORMS as PLATFORMS,
    PlatformProfile as PlatformProfile,
    get_platform as get_platform,
    share as share,
    share_chain as share_chain,
)
from .data.synth.scenes import iter_scenes as iter_scenes, make_scenes as make_scenes
from .errors import ImageReadError as ImageReadError, ParameterError as ParameterError
from .evaluate import (
    accuracy as accuracy,
    bagged_trees as bagged_trees,
    confusion_matrix_percent as confusion_matrix_percent,
    confusion_table as confusion_table,
    extra_trees as extra_trees,
    majority_vote as majority_vote,
    true_positive_rates as true_positive_rates,
)
from .paths import cache_dir as cache_dir, project_root as project_root, results_dir as results_dir
from .provenance.dct_cnn import dct_cnn as dct_cnn
from .provenance.experiment import (
    ProvenanceSettings as ProvenanceSettings,
    paper1_dataset as paper1_dataset,
    run_provenance as run_provenance,
)
from .provenance.evaluation import (
    ProvenanceEstimates as ProvenanceEstimates,
    ProvenanceSetup as ProvenanceSetup,
    TableVote as TableVote,
    confusion_lead as confusion_lead,
    evaluate_provenance as evaluate_provenance,
    provenance_setup as provenance_setup,
    table_vote as table_vote,
    verdict_over_seeds as verdict_over_seeds,
)
from .provenance.features import (
    FeatureParams as FeatureParams,
    FeatureSet as FeatureSet,
    PatchFeatures as PatchFeatures,
    SkippedFile as SkippedFile,
    ZIGZAG as ZIGZAG,
    dct_histograms as dct_histograms,
    extract_features as extract_features,
    image_features as image_features,
    zigzag_modes as zigzag_modes,
)
from .provenance.combination import Combination as Combination
from .provenance.header import (
    JPEGHeader as JPEGHeader,
    read_header as read_header,
)
from .provenance.header_vote import (
    HeaderVote as HeaderVote,
    header_vote as header_vote,
    shifted_calibration_set as shifted_calibration_set,
)
from .provenance.identifier import (
    identify as identify,
    load_identifier as load_identifier,
    save_identifier as save_identifier,
)
from .provenance.jpeg import (
    DCTImage as DCTImage,
    QualityEstimate as QualityEstimate,
    block_dct as block_dct,
    encode_jpeg as encode_jpeg,
    estimate_quality as estimate_quality,
    ijg_quantization_table as ijg_quantization_table,
    is_jpeg as is_jpeg,
    read_dct as read_dct,
)
from .provenance.table_evidence import (
    HeaderEvidence as HeaderEvidence,
    Smoothing as Smoothing,
    TableEvidence as TableEvidence,
    luminance_table as luminance_table,
)
from .runner.report import build_report as build_report
from .runner.session import (
    Session as Session,
    start_session as start_session,
)
from .seeding import seed_everything as seed_everything
from .stats import (
    Estimate as Estimate,
    LevelEstimates as LevelEstimates,
    SeedSummary as SeedSummary,
    VERDICTS as VERDICTS,
    Verdict as Verdict,
    accuracy_estimate as accuracy_estimate,
    across_seeds as across_seeds,
    chance_level as chance_level,
    class_rate_estimates as class_rate_estimates,
    every_claim as every_claim,
    level_estimates as level_estimates,
    over_seeds as over_seeds,
    paired_difference as paired_difference,
    seed_verdict as seed_verdict,
    unpaired_difference as unpaired_difference,
    verdict as verdict,
)
from .tables import markdown_table as markdown_table
from .training import (
    TrainResult as TrainResult,
    TrainingStatus as TrainingStatus,
    early_stopping as early_stopping,
    halving_schedule as halving_schedule,
    train as train,
    training_status as training_status,
)
from .unified.common import UnifiedSettings as UnifiedSettings
from .unified.experiment import (
    capped_mark as capped_mark,
    paper2_setup as paper2_setup,
    seed_claim as seed_claim,
    share_depth_sweep as share_depth_sweep,
)
from .unified.layers import (
    BayarConstraint as BayarConstraint,
    CeilPooling2D as CeilPooling2D,
    ConstrainedConv2D as ConstrainedConv2D,
)
from .unified.mislnet import (
    SHARE_DEPTHS as SHARE_DEPTHS,
    compile_mislnet as compile_mislnet,
    mislnet as mislnet,
)
from .unified.multitask import (
    TiedLegs as TiedLegs,
    check_tied_legs as check_tied_legs,
    evaluate_multitask as evaluate_multitask,
    multitask_model as multitask_model,
    multitask_sweep as multitask_sweep,
    paired_dataset as paired_dataset,
    run_multitask as run_multitask,
    train_multitask as train_multitask,
)
from .unified.patches import (
    PatchSet as PatchSet,
    paper2_patches as paper2_patches,
    patches_from_dataset as patches_from_dataset,
    validation_split as validation_split,
)
from .unified.single_task import train_single_task as train_single_task
from .unified.transfer import (
    deep_features as deep_features,
    feature_extractor as feature_extractor,
    run_transfer as run_transfer,
    transfer_model as transfer_model,
    transfer_sweep as transfer_sweep,
)
from .unified.trees import deep_feature_trees as deep_feature_trees

__version__: str
ONEDNN_DEFAULT: str
__all__: list[str]
