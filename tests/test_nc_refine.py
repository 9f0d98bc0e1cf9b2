"""Two-stage Neural Cleanse verdict (plain NumPy): which labels are refined, the MAD test against
the refined reference sample, target ranks and the mask's overlap with a known trigger region."""

import numpy as np
import pytest

from bdeval import mad
from conftest import loads_tensorflow, run_script
from bdeval.neural_cleanse import refine as nc_refine, verdict as nc_verdict


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
    base = {
        "labels_scanned": 1283,
        "n_classes": 1283,
        "flagged": [],
        "anomaly_index": {},
        "max_anomaly_index": 1.2,
        "threshold": 2.0,
        "near_threshold": [],
        "missed_targets": [],
        "targets": {},
        "failed_labels": [],
    }
    base.update(changes)
    return base


def test_verdict_in_plain_words():
    assert nc_verdict.describe(summary()).startswith("No label flagged")
    text = nc_verdict.describe(
        summary(
            flagged=[1],
            anomaly_index={"1": 3.1},
            near_threshold=[5],
            missed_targets=[5, 8],
            targets={
                "5": {"scanned": True, "anomaly_index": 1.85},
                "8": {"scanned": True, "anomaly_index": 1.2},
            },
        )
    )
    assert "flagged: 1 (index 3.10)" in text and "Undecided" in text and "5" in text
    assert "NOT flagged: 5 (index 1.85), 8 (index 1.20)" in text
    partial = nc_verdict.describe(summary(labels_scanned=24))
    assert partial.startswith("PARTIAL SCAN of labels 0-23 of 1283")


# --- the scripts between and after the stages, on synthetic triggers (no TensorFlow) ---------


def fake_results(labels, norms):
    """Results whose mask sums to the given L1 norm (uniform mask)."""
    out = []
    for y, n in zip(labels, norms):
        mask = np.full((55, 47), n / (55 * 47.0), np.float32)
        out.append(
            {
                "label": int(y),
                "mask": mask,
                "pattern": np.full((55, 47, 3), 0.5, np.float32),
                "l1_norm": float(mask.sum()),
                "attack_success": 1.0,
                "success": True,
                "steps": 80,
                "epochs": 40,
                "lambda": 0.01,
            }
        )
    return out


def test_select_and_gather_on_synthetic_stages(tmp_path):
    from bdeval.neural_cleanse import store as nc_store

    n = 120
    screen = np.random.RandomState(2).permutation(np.linspace(100.0, 200.0, n))  # no outliers
    screen[3] = 30.0  # the target: small at screening too
    meta = {"fingerprint": "f", "schedule": "default", "settings": {}, "seed": 1}
    shards = [tmp_path / "0-59.npz", tmp_path / "60-119.npz"]
    nc_store.save_results(shards[0], fake_results(range(60), screen[:60]), meta)
    nc_store.save_results(shards[1], fake_results(range(60, n), screen[60:]), meta)
    plan, starts = tmp_path / "plan.json", tmp_path / "starts.npz"
    proc = run_script(
        "nc_select.py",
        *(
            shards
            + [
                "--n-labels",
                n,
                "--candidates",
                4,
                "--reference",
                30,
                "--out-plan",
                plan,
                "--out-starts",
                starts,
            ]
        ),
    )
    assert proc.returncode == 0, proc.stderr
    import json

    chosen = json.loads(plan.read_text())
    assert 3 in chosen["candidates"] and len(chosen["reference"]) == 30
    assert len(nc_store.load_results(starts)[0]) == len(chosen["labels"])

    # refinement: the reference halves; the other candidates were lucky at screening and come
    # back to an ordinary 75; the target shrinks to 3: only it is flagged, clearly
    def refined_norm(y):
        return 3.0 if y == 3 else (screen[y] / 2.0 if y in chosen["reference"] else 75.0)

    refined = fake_results(chosen["labels"], [refined_norm(y) for y in chosen["labels"]])
    for r in refined:
        r["test_attack_success"] = 0.9
        if y_is_candidate(r["label"], chosen):  # three starts each, the median run kept
            r.update(nc_refine.combine_restarts([dict(r, l1_norm=r["l1_norm"] * f) for f in (1.2, 1.0, 0.5)]))
    part = tmp_path / "part_0.npz"
    nc_store.save_results(part, refined, dict(meta, settings={"epochs": 400}))
    out = {k: tmp_path / ("out." + k) for k in ("csv", "npz", "json", "png")}
    proc = run_script(
        "nc_gather.py",
        *(
            shards
            + [
                "--refined",
                part,
                "--plan",
                plan,
                "--badnet",
                "synthetic",
                "--n-classes",
                n,
                "--poisoned",
                "patch:3:none.h5",
                "--poisoned",
                "other:7:none.h5",
                "--trigger-rows",
                "patch:0:54",
                "--out-csv",
                out["csv"],
                "--out-npz",
                out["npz"],
                "--out-json",
                out["json"],
                "--out-png",
                out["png"],
            ]
        ),
    )
    assert proc.returncode == 0, proc.stderr
    gather_args = proc.args[2:]
    summary = json.loads(out["json"].read_text())
    assert summary["method"] == "screen+refine" and summary["flagged"] == [3] == summary["paper_flagged"]
    assert summary["weak"] == []
    assert summary["verdict"].startswith("Backdoor target(s) flagged: 3")
    assert summary["flagged_details"]["3"]["overlap"] == {"patch": pytest.approx(1.0)}
    assert summary["targets"]["3"]["rank"] == 1 and summary["targets"]["3"]["stage"] == "candidate"
    assert summary["missed_targets"] == [7] and "NOT flagged: 7" in summary["verdict"]
    rows = out["csv"].read_text().splitlines()
    stages = [line.split(",")[1] for line in rows[1:]]
    assert stages.count("reference") == 30 and stages.count("screen") == n - len(chosen["labels"])
    restarts = {line.split(",")[0]: line.split(",")[-1] for line in rows[1:]}
    assert restarts["3"] == "3.6000;3.0000;1.5000" and all(
        restarts[str(y)] == "" for y in range(n) if y not in chosen["candidates"]
    )
    assert summary["anomaly_index"]["3"] > 3  # 3.0: the median of the three starts
    assert nc_store.load_results(out["npz"])[0][3]["restart_l1"] == pytest.approx([3.6, 3.0, 1.5])
    # the same net called a clean control: no known target to miss, and its flag is a false alarm
    control = tmp_path / "control.json"
    args = [str(control) if a == str(out["json"]) else a for a in gather_args] + ["--clean-control"]
    assert run_script("nc_gather.py", *args).returncode == 0
    summary_control = json.loads(control.read_text())
    assert summary_control["known_targets"] == [] == summary_control["missed_targets"]
    assert summary_control["verdict"].endswith(
        "clean control (no backdoor planted): every flag is a false alarm."
    )
    # above the paper's threshold but not standing apart on a scan of over 100 labels: weak, which
    # is neither a flag (repairs read `flagged`) nor a clean bill
    assert n > 100
    weak_json = tmp_path / "weak.json"
    weak_csv = tmp_path / "weak.csv"
    args = [str(weak_json) if a == str(out["json"]) else a for a in gather_args]
    args = [str(weak_csv) if a == str(out["csv"]) else a for a in args] + ["--separation", "1000"]
    assert run_script("nc_gather.py", *args).returncode == 0
    weak = json.loads(weak_json.read_text())
    assert weak["flagged"] == [] and weak["weak"] == [3] == weak["paper_flagged"]
    assert weak["missed_targets"] == [3, 7]
    assert "Weak, NOT flagged: 3 (index" in weak["verdict"]
    assert "No label flagged with confidence: undecided, not a clean bill." in weak["verdict"]
    assert "NOT flagged: 3 (index {:.2f}, weak)".format(weak["anomaly_index"]["3"]) in weak["verdict"]
    weak_rows = {line.split(",")[0]: line.split(",") for line in weak_csv.read_text().splitlines()}
    assert weak_rows["label"][4:6] == ["flagged", "weak"] and weak_rows["3"][4:6] == ["0", "1"]
    assert out["csv"].read_text().splitlines()[4].split(",")[4:6] == ["1", "0"]  # label 3, flagged
    # the median is the refined reference's, not the screening's
    reference = [screen[y] / 2.0 for y in chosen["reference"]]
    assert summary["median_l1"] == pytest.approx(np.median(reference), rel=1e-4)


def y_is_candidate(y, plan):
    return y in plan["candidates"]


def test_only_a_block_of_triggers_standing_apart_is_flagged():
    norms = {0: 10.0, 1: 12.0, 2: 40.0, 3: 45.0, 4: 50.0, 5: 100.0}
    assert nc_refine.separated([0, 1, 2], norms, 2.0) == [0, 1]  # 12 x 2 <= 40; 40 x 2 > 45
    assert nc_refine.separated([2, 0], norms, 2.0) == []  # 0 stands close to 1 (not a candidate)
    assert nc_refine.separated([0, 1], norms, 4.0) == []  # 10 x 4 > 12: nothing stands apart
    assert nc_refine.separated([2, 3], norms, 2.0) == []  # the tail's smallest, close together
    assert nc_refine.separated([], norms, 2.0) == []


def test_restarts_keep_the_median_run_and_every_norm():
    runs = [{"label": 5, "l1_norm": v, "mask": np.full((2, 2), v)} for v in (70.0, 40.0, 90.0)]
    chosen = nc_refine.combine_restarts(runs)
    assert chosen["l1_norm"] == 70.0 and chosen["mask"][0, 0] == 70.0  # the median run, whole
    assert chosen["restart_l1"] == [70.0, 40.0, 90.0]
    assert nc_refine.combine_restarts(runs[:2])["l1_norm"] == 40.0  # even count: the lower middle
    assert "restart_l1" not in runs[0]  # inputs untouched


def test_stage_scripts_name_the_bad_file_in_one_line(tmp_path):
    proc = run_script(
        "nc_select.py",
        tmp_path / "missing.npz",
        "--n-labels",
        10,
        "--candidates",
        2,
        "--reference",
        3,
        "--out-plan",
        tmp_path / "p.json",
        "--out-starts",
        tmp_path / "s.npz",
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == "error: {}: no such shard file".format(
        tmp_path / "missing.npz"
    )
    assert not (tmp_path / "p.json").exists()


def test_log_index_is_signed_and_scale_free():
    reference = {y: 100.0 * 1.1 ** ((y % 5) - 2) for y in range(20)}  # log-symmetric around 100
    refined = dict(reference)
    refined.update({90: 10.0, 91: 1000.0})
    logs = nc_refine.log_index(refined, sorted(reference))
    assert logs[90] > 10 and logs[91] < -10 and logs[90] == pytest.approx(-logs[91])
    scaled = nc_refine.log_index({y: 7.0 * v for y, v in refined.items()}, sorted(reference))
    assert scaled[90] == pytest.approx(logs[90])


def test_the_numpy_core_imports_without_tensorflow():
    assert not loads_tensorflow(
        "bdeval.mad",
        "bdeval.rows",
        "bdeval.neural_cleanse.core",
        "bdeval.neural_cleanse.refine",
        "bdeval.neural_cleanse.verdict",
        "bdeval.neural_cleanse.store",
        "bdeval.neural_cleanse.scan",
        "bdeval.neural_cleanse.gallery",
    )
