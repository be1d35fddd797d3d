"""The published numbers of both papers, transcribed from their text, for side-by-side tables.

Paper 1: Amerini, Uricchio, Caldelli, "Tracing images back to their social network of origin: a CNN-based
approach", WIFS 2017. Confusion matrices in percent, rows = true class, columns = predicted class.
Paper 2: Mayer, Bayar, Stamm, "Learning unified deep features for multiple forensic tasks", IH&MMSec 2018.
Accuracies as fractions. Fig. 3 of paper 2 is a plot; only the points its text states are given here.
"""

from __future__ import annotations

__all__ = ["PAPER1_CLASSES_3", "PAPER1_CLASSES_8", "PAPER1_TABLES", "PAPER1_PATCH_AVERAGES", "PAPER1_STATED", "PAPER2"]

PAPER1_CLASSES_3 = ("facebook", "flickr", "twitter")
#: Table VII's order.
PAPER1_CLASSES_8 = ("facebook", "flickr", "google_plus", "instagram", "original", "telegram", "twitter", "whatsapp")

PAPER1_TABLES = {
    # Sec. IV-A, patch level, three classes.
    "I": {"dataset": "UCID social", "level": "patch", "classes": PAPER1_CLASSES_3, "proposed": [
        [96.15, 0.19, 3.66], [0.03, 99.79, 0.18], [0.59, 0.11, 99.30]]},
    "II": {"dataset": "Public social", "level": "patch", "classes": PAPER1_CLASSES_3, "proposed": [
        [84.23, 4.60, 11.17], [4.21, 88.80, 6.99], [7.83, 2.39, 89.78]]},
    "III": {"dataset": "IPLab", "level": "patch", "classes": PAPER1_CLASSES_3, "proposed": [
        [94.00, 6.00, 0.00], [1.76, 92.13, 6.11], [0.00, 13.47, 86.53]]},
    # Sec. IV-B, image level: the proposed CNN with majority vote, and the method of Caldelli et al. 2017 ([11]).
    "IV": {"dataset": "UCID social", "level": "image", "classes": PAPER1_CLASSES_3,
           "proposed": [[97.37, 0.00, 2.63], [0.00, 100.0, 0.00], [0.00, 0.00, 100.0]],
           "baseline": [[97.42, 0.00, 2.58], [0.00, 100.0, 0.00], [0.33, 0.00, 99.67]]},
    "V": {"dataset": "Public social", "level": "image", "classes": PAPER1_CLASSES_3,
          "proposed": [[88.24, 0.00, 11.76], [0.99, 97.03, 1.98], [0.00, 0.00, 100.0]],
          "baseline": [[86.34, 3.08, 10.58], [5.58, 90.59, 3.83], [10.00, 0.67, 89.33]]},
    "VI": {"dataset": "IPLab", "level": "image", "classes": PAPER1_CLASSES_3,
           "proposed": [[96.01, 3.99, 0.00], [1.68, 97.06, 1.26], [0.00, 1.26, 98.74]],
           "baseline": [[90.00, 8.75, 1.25], [8.75, 76.25, 15.00], [10.00, 22.50, 67.50]]},
    # Sec. IV-C, patch level, eight classes (IPLab).
    "VII": {"dataset": "IPLab", "level": "patch", "classes": PAPER1_CLASSES_8, "proposed": [
        [87.12, 3.84, 0.17, 1.65, 0.70, 6.32, 0.17, 0.04],
        [0.10, 85.72, 0.04, 0.10, 3.72, 7.42, 2.63, 0.27],
        [0.04, 0.84, 84.54, 0.00, 13.48, 1.01, 0.06, 0.03],
        [0.06, 0.71, 0.14, 97.71, 0.99, 0.25, 0.00, 0.14],
        [0.00, 0.27, 0.44, 0.01, 99.03, 0.24, 0.00, 0.01],
        [0.01, 0.15, 0.01, 0.00, 1.56, 98.25, 0.02, 0.00],
        [0.04, 4.26, 0.00, 0.00, 1.06, 0.43, 94.21, 0.00],
        [0.0, 0.15, 0.02, 0.00, 1.03, 0.02, 0.00, 98.78]]},
}  # fmt: skip

#: Sec. IV-A's stated patch-level averages (the means of the diagonals of Tables I-III).
PAPER1_PATCH_AVERAGES = {"UCID social": 98.41, "Public social": 87.60, "IPLab": 90.89}

#: What paper 1's text states in numbers besides its tables (percent, or points for a gain).
PAPER1_STATED = {
    # Sec. IV-B: "Correct classification percentages are averagely around 95% with the proposed method while
    # using [11] they are at about 88%" (image level, Tables IV-VI).
    "IV-B": {"proposed_image_level": 95.0, "baseline_image_level": 88.0},
    # Sec. IV-C: "over 90% averagely" (patch level, Table VII); "over 95%" for the classes listed (Table VII gives
    # 94.21% for Twitter, one of them); image level "improve[s] of about 5% averagely" (no table).
    "IV-C": {"patch_level_average_over": 90.0, "classes_over": 95.0,
             "classes_listed_over": ("instagram", "original", "telegram", "twitter", "whatsapp"),
             "image_level_gain": 5.0},
}

PAPER2 = {
    # Sec. 5.1: single-task CNNs.
    "single_task": {"manipulation": 0.996, "camera": 0.975},
    # Sec. 5.2 and 5.3: the points of Fig. 3 that the text states (target task -> {share depth: accuracy}).
    "transfer": {"camera": {"constr": 0.975, "fc2": 0.578}, "manipulation": {"constr": 0.998, "fc2": 0.976}},
    # (Sec. 5.3 says these improve on transfer by 39.5 and 1.6 points; the numbers give 39.0 and 1.8.)
    "multitask": {"camera": {"fc2": 0.968}, "manipulation": {"fc2": 0.994}},
    # Table 2: fc2 feature extractor -> target task -> (CNN, ERT).
    "table2": {
        "manipulation (A)": {"manipulation": (0.996, 0.998), "camera": (0.578, 0.725)},
        "camera (B)": {"manipulation": (0.976, 0.989), "camera": (0.975, 0.977)},
        "hybrid (A + B, fc2)": {"manipulation": (0.994, 0.998), "camera": (0.968, 0.976)},
    },
    # Table 3: 5-camera task C with limited data; feature extractor -> (CNN, ERT); None where the table is empty.
    # The text gives 91.2% for the A + B hybrid's ERT where the table gives 91.5%; the table is transcribed.
    "table3": {
        "manipulation (A)": (None, 0.750),
        "20 cameras (B)": (None, 0.889),
        "5 cameras (C)": (0.866, 0.856),
        "hybrid (A + B, fc2)": (None, 0.915),
        "hybrid (A + B + C, fc2)": (0.921, 0.928),
    },
    # Sec. 5 and 5.4: the experiments' sizes (what params/paper.yaml should match).
    "sizes": {
        "patch_size": 256,
        "epochs": 30,
        "batch_size": 40,
        "camera_train_patches_per_model": 20_000,  # task B: 20 models, from the training devices
        "camera_test_patches_per_model": 1_500,  # task B: from the held-out device of each model
        "limited_patches_per_class": 10_000,  # task C: 5 models, training and testing together (1/8 of task B's data)
        "hybrid_batches": {"manipulation": 40, "camera": 40, "camera_limited": 5},  # the 3-task hybrid, Sec. 5.4
    },
}
