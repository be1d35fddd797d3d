"""The transcribed numbers agree with what the papers' own text states about them."""

import numpy as np

from forensiclib.paper import PAPER1_PATCH_AVERAGES, PAPER1_TABLES, PAPER2


def test_rows_sum_to_100_and_stated_averages_hold():
    for name, table in PAPER1_TABLES.items():
        for key in ("proposed", "baseline"):
            if key in table:
                rows = np.asarray(table[key]).sum(axis=1)
                np.testing.assert_allclose(rows, 100, atol=0.06, err_msg=f"Table {name} {key}")
    for name, dataset in (("I", "UCID social"), ("II", "Public social"), ("III", "IPLab")):
        diagonal = np.diag(PAPER1_TABLES[name]["proposed"]).mean()
        assert round(diagonal, 2) == PAPER1_PATCH_AVERAGES[dataset]


def test_paper2_stated_differences():
    # Sec. 5.2: a drop of 39.7 points (camera, fc2) and of 2.0 points (manipulation, fc2) below single task.
    assert round(PAPER2["single_task"]["camera"] - PAPER2["transfer"]["camera"]["fc2"], 3) == 0.397
    assert round(PAPER2["single_task"]["manipulation"] - PAPER2["transfer"]["manipulation"]["fc2"], 3) == 0.020
    # Sec. 5.3's text says multitask at fc2 improves on transfer by 39.5 (camera) and 1.6 points (manipulation);
    # its own numbers give 39.0 and 1.8. The numbers are transcribed as printed; the discrepancy is the paper's.
    assert round(PAPER2["multitask"]["camera"]["fc2"] - PAPER2["transfer"]["camera"]["fc2"], 3) == 0.390
    assert round(PAPER2["multitask"]["manipulation"]["fc2"] - PAPER2["transfer"]["manipulation"]["fc2"], 3) == 0.018
