"""Two-stage Neural Cleanse verdict (plain NumPy): which labels are refined, the MAD test against
the refined reference sample, target ranks and the mask's overlap with a known trigger region."""
import numpy as np
import pytest

from bdeval import mad, nc_refine, nc_verdict


def screening_norms(n=200, seed=0):
    rng = np.random.RandomState(seed)
    return rng.normal(150.0, 40.0, size=n).clip(20, None)


def test_candidates_are_the_smallest_norms_plus_screening_flags_and_the_reference_is_seeded():
    norms = screening_norms()
    norms[7] = 1.0  # a clear screening flag
    plan = nc_refine.select(range(200), norms, n_candidates=5, n_reference=20, seed=3)
    smallest = set(np.argsort(norms)[:5].tolist())
    flagged = set(np.flatnonzero(mad.flagged(norms)).tolist())
    assert set(plan["candidates"]) == smallest | flagged and 7 in plan["candidates"]
    assert len(plan["reference"]) == 20 and not set(plan["reference"]) & set(plan["candidates"])
    assert plan["all_labels"] is False
    again = nc_refine.select(range(200), norms, n_candidates=5, n_reference=20, seed=3)
    other = nc_refine.select(range(200), norms, n_candidates=5, n_reference=20, seed=4)
    assert again == plan and other["reference"] != plan["reference"]


def test_few_labels_are_all_refined_and_all_in_the_reference():
    plan = nc_refine.select(range(16), screening_norms(16), n_candidates=16, n_reference=48, seed=1)
    assert plan["all_labels"] and plan["candidates"] == plan["reference"] == list(range(16))


def test_verdict_uses_the_reference_statistic_only():
    reference = {y: 100.0 + 10.0 * ((y % 5) - 2) for y in range(10, 30)}  # median 100, MAD 10
    refined = dict(reference)
    refined.update({1: 60.0, 2: 75.0, 3: 90.0})
    result = nc_refine.test(refined, sorted(reference), threshold=2.0)
    assert result["median_l1"] == pytest.approx(100.0)
    assert result["mad_scale"] == pytest.approx(14.826)
    assert result["index"][1] == pytest.approx(40 / 14.826)
    assert result["flagged"] == [1]  # 2: index 1.69, not flagged; 3: 0.67
    assert result["max_anomaly_index"] == pytest.approx(result["index"][1])
    # candidates with tiny norms do not move the statistic: it is the reference's alone
    refined[4] = 1.0
    assert nc_refine.test(refined, sorted(reference))["median_l1"] == pytest.approx(100.0)


def test_a_reference_label_without_a_refined_norm_is_an_error():
    with pytest.raises(ValueError, match="reference labels"):
        nc_refine.test({1: 5.0, 2: 6.0}, [1, 2, 3])


def test_ranks_and_mask_overlap():
    assert nc_refine.ranks({5: 30.0, 1: 10.0, 8: 20.0, 9: 20.0}) == {1: 1, 8: 2, 9: 2, 5: 4}
    mask = np.zeros((55, 47))
    mask[15:35, :] = 1.0
    mask[0, 0] = 20 * 47 / 3.0  # a quarter of the mass outside rows 15-34
    assert nc_refine.mask_overlap(mask, (15, 34)) == pytest.approx(0.75)
    assert nc_refine.mask_overlap(np.zeros((55, 47)), (15, 34)) == 0.0


def summary(**changes):
    base = {"labels_scanned": 1283, "n_classes": 1283, "flagged": [], "anomaly_index": {},
            "max_anomaly_index": 1.2, "threshold": 2.0, "near_threshold": [], "missed_targets": [],
            "targets": {}, "failed_labels": []}
    base.update(changes)
    return base


def test_verdict_in_plain_words():
    assert nc_verdict.describe(summary()).startswith("No label flagged")
    text = nc_verdict.describe(summary(
        flagged=[1], anomaly_index={"1": 3.1}, near_threshold=[5], missed_targets=[5, 8],
        targets={"5": {"scanned": True, "anomaly_index": 1.85}, "8": {"scanned": True, "anomaly_index": 1.2}}))
    assert "flagged: 1 (index 3.10)" in text and "Undecided" in text and "5" in text
    assert "NOT flagged: 5 (index 1.85), 8 (index 1.20)" in text
    partial = nc_verdict.describe(summary(labels_scanned=24))
    assert partial.startswith("PARTIAL SCAN of labels 0-23 of 1283")
