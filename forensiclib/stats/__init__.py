"""How sure a number is: bootstrap intervals, paired differences, and verdicts on the papers' claims.

An accuracy measured on a few dozen test images moves by several points with the split or the seed; a claim
such as "the CNN beats the baseline" is decided only when the interval of the difference excludes the boundary.

    patch = accuracy_estimate(y_true, y_pred, groups=image_ids)        # resamples whole images
    cnn, trees = (accuracy_estimate(y, p, item_name="images") for p in (pred_cnn, pred_trees))
    gain = paired_difference(y, pred_cnn, pred_trees)                   # the same images, resampled together
    verdict(gain, ">", compared={"CNN": cnn, "trees": trees}, chance=chance_level(y))

Method: a percentile bootstrap. Without `groups` the test items are resampled with replacement; with `groups`
(e.g. the image of each patch) whole groups are (a cluster bootstrap), because patches of one image are not
independent and a bootstrap over patches would give too narrow an interval. Each group is reduced to its counts
over a few cells (true class x right or wrong, for each prediction compared); a resample of G groups drawn with
replacement is then a multinomial draw of G over the distinct count vectors, the same distribution computed
without materialising the resampled indices.

Over several training seeds (`pooled_accuracy`, `pooled_difference`) a number is the mean over seeds and its
interval covers the training variance and the resampling of the independent test units (source photos, devices)
together: see `stats/pooled.py`.

A percentile interval cannot reach beyond what the sample shows: at 0% or 100% it has zero width, and on a
dozen items it is narrower than, e.g., a Wilson interval. Numbers are in percent, differences in points.
"""

from .estimates import (
    Estimate,
    LevelEstimates,
    accuracy_estimate,
    chance_level,
    class_rate_estimates,
    level_estimates,
    paired_difference,
    unpaired_difference,
)
from .pooled import (
    combine_independent,
    over_seeds,
    pool_estimates,
    pooled_accuracy,
    pooled_difference,
    pooled_verdict,
)
from .verdicts import VERDICTS, SeedSummary, Verdict, across_seeds, every_claim, seed_verdict, verdict

__all__ = [
    "VERDICTS",
    "Estimate",
    "Verdict",
    "SeedSummary",
    "LevelEstimates",
    "accuracy_estimate",
    "class_rate_estimates",
    "paired_difference",
    "unpaired_difference",
    "level_estimates",
    "chance_level",
    "pooled_accuracy",
    "pooled_difference",
    "pool_estimates",
    "pooled_verdict",
    "combine_independent",
    "verdict",
    "across_seeds",
    "seed_verdict",
    "over_seeds",
    "every_claim",
]
