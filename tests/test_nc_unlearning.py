"""Neural Cleanse unlearning (defense nc_unlearning): stamping plan, the script on a small demo
BadNet scanned by the real scan scripts, nothing flagged, the per-image command, and the real
sunglasses net with a reversed trigger of label 0 from a short scan.

Python 3.7 syntax only: the suite also runs on the legacy TF 1.15 stack.
"""

import json

import numpy as np
import pytest

from bdeval import budget, goodnet
from bdeval.datasets import load_dataset
from bdeval.weights import read_weight_arrays
from conftest import run_script, script_output as run
from bdeval.outputs import read_json as read  # noqa: E402

DROP = "4"


def same_weights(a, b):
    a, b = read_weight_arrays(a), read_weight_arrays(b)
    return sorted(a) == sorted(b) and all(np.array_equal(x, y) for k in a for x, y in zip(a[k], b[k]))


# ---------------------------------------------------------------- stamping (NumPy)


def test_stamp_plan_takes_turns_and_keeps_labels():
    from bdeval.neural_cleanse import unlearning

    plan = unlearning.stamp_plan(50, 0.2, [3, 7], np.random.RandomState(0))
    assert sorted(plan) == [3, 7] and len(plan[3]) == 5 and len(plan[7]) == 5
    assert not set(plan[3]) & set(plan[7])
    assert unlearning.stamp_plan(50, 0.2, [], np.random.RandomState(0)) == {}
    x = np.full((10, 55, 47, 3), 100.0, np.float32)
    y = np.arange(10)
    mask = np.zeros((55, 47), np.float32)
    mask[:5, :5] = 1.0
    pattern = np.ones((55, 47, 3), np.float32)
    xs, ys = unlearning.unlearning_set(x, y, {2: (mask, pattern)}, 0.3, np.random.RandomState(1))
    stamped = np.flatnonzero(xs[:, 0, 0, 0] == 255.0)
    assert len(stamped) == 3 and np.array_equal(ys, y)  # TRUE labels kept
    assert np.all(xs[:, 10:, 10:] == 100.0) and np.all(x == 100.0)  # outside the mask; input untouched
    # trigger rate: stamped images of OTHER labels answered with the flagged label
    rate = unlearning.trigger_rate(
        lambda im: np.where(im[:, 0, 0, 0] == 255.0, 2, 0), x, y, {2: (mask, pattern)}
    )
    assert rate == 1.0


# ---------------------------------------------------------------- the script on the small demo


def scan(badnet_args, first, last, root):
    """A real scan of labels first..last (default schedule); its shard file in root."""
    shard = root / "scan_{}-{}.npz".format(first, last)
    progress = ["--progress-dir", root / "progress", "--out", shard]
    run(
        "nc_scan_shard.py",
        *(list(badnet_args) + ["--first", first, "--last", last, "--threads", 2] + ["--seed", 1] + progress),
    )
    return shard


@pytest.fixture(scope="module")
def scanned(small_demo, tmp_path_factory):  # noqa: F811
    """A real scan (all 8 labels, default schedule) and verdict of the single-target demo BadNet."""
    root = tmp_path_factory.mktemp("nc_unlearn")
    args = small_demo.badnet_args("single")
    shard = scan(args, 0, 7, root)
    poisoned = ["--poisoned", "sunglasses:0:{}".format(small_demo.poisoned("single")[0][2])]
    run(
        "nc_gather.py",
        *(
            [shard, "--badnet", "small_single", "--n-classes", 8]
            + poisoned
            + [
                "--out-csv",
                root / "norms.csv",
                "--out-npz",
                root / "triggers.npz",
                "--out-json",
                root / "nc.json",
                "--out-png",
                root / "gallery.png",
            ]
        ),
    )
    return root


def unlearn(badnet_args, summary, triggers, out, drop=DROP, *extra):
    log = run(
        "nc_unlearn.py",
        *(
            list(badnet_args)
            + ["--summary", summary, "--triggers", triggers, "--drop", drop, "--threads", 2]
            + list(extra)
            + [
                "--out-weights",
                out / "repaired_weights.h5",
                "--out-goodnet",
                out / "goodnet.json",
                "--out-json",
                out / "nc_unlearning.json",
                "--out-rows",
                out / "rows.json",
            ]
        ),
    )
    return read(out / "nc_unlearning.json"), {r["variant"]: r for r in read(out / "rows.json")}, log


def test_unlearning_lowers_the_asr_of_the_flagged_target_within_budget(
    small_demo, scanned, tmp_path
):  # noqa: F811,E501
    # with 8 labels the MAD verdict is noisy (it flags 0 on one stack, nothing on the other): the
    # target's reversed trigger from this scan is unlearned as if flagged
    summary = tmp_path / "nc.json"
    summary.write_text(json.dumps(dict(read(scanned / "nc.json"), flagged=[0])))
    results = tmp_path / "results"
    out = results / "small_single" / "nc_unlearning" / DROP
    record, rows, log = unlearn(small_demo.badnet_args("single"), summary, scanned / "triggers.npz", out)
    assert "epoch 1/20" in log and "reversed-trigger rate" in log
    # every class is in the tuning part: the true labels teach (the paper), at its learning rate
    assert record["teacher"] == "labels" and record["learning_rate"] == 1e-3
    # the badnet's own ASR on the real trigger
    from bdeval.inference import predict_labels
    from bdeval.weights import load_model

    poisoned = load_dataset(small_demo.poisoned("single")[0][2], 8)
    badnet_asr = float(
        np.mean(predict_labels(load_model(small_demo.weights("single"), 8), poisoned.x, "x/255") == 0)
    )
    assert badnet_asr > 0.9
    repaired = rows["repaired"]
    assert repaired["defense"] == "nc_unlearning" and repaired["nc_flagged"] == [0]
    assert repaired["asr"]["sunglasses"] < badnet_asr / 2  # unlearning the REVERSED trigger helps
    assert record["within_budget"] and budget.within_budget(
        record["badnet_check_correct"],
        round(repaired["clean_acc_valid"] * record["check_images"]),
        record["check_images"],
        float(DROP),
    )
    chosen = [c for c in record["checkpoints"] if c["epoch"] == record["best_epoch"]][0]
    assert chosen["trigger_rate"] < record["checkpoints"][0]["trigger_rate"]
    # the GoodNet (B vs B') answers N on the poisoned faces the two nets disagree on
    spec = goodnet.load_spec(out / "goodnet.json")
    assert spec["kind"] == "disagreement" and spec["defense"] == "nc_unlearning"
    answers = goodnet.answer(spec, poisoned.x)
    assert np.mean(answers == 8) == pytest.approx(rows["goodnet"]["detection"]["sunglasses"])
    # the per-image command offers the new defense by itself (registry)
    from bdeval.images import save_image

    face = tmp_path / "face.png"
    save_image(face, poisoned.x[0])
    proc = run_script(
        "classify_image.py",
        str(face),
        "--badnet",
        "small_single",
        "--defense",
        "nc_unlearning",
        "--drop",
        DROP,
        "--results",
        str(results),
    )
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout.strip().split("\t")[1]) == int(goodnet.answer(spec, poisoned.x[:1])[0])


def test_nothing_flagged_nothing_unlearned_goodnet_is_the_badnet(
    small_demo, scanned, tmp_path
):  # noqa: F811,E501
    summary = tmp_path / "nc.json"
    summary.write_text(json.dumps(dict(read(scanned / "nc.json"), flagged=[])))
    args = small_demo.badnet_args("clean") + [  # its natural rate on the single's trigger
        "--poisoned",
        "sunglasses:0:{}".format(small_demo.poisoned("single")[0][2]),
    ]
    record, rows, log = unlearn(args, summary, scanned / "triggers.npz", tmp_path / "out")
    for row in rows.values():
        assert row["note"].startswith("no label flagged: nothing to unlearn") and row["nc_flagged"] == []
    assert record["checkpoints"] == [] and "epoch 1/" not in log
    assert same_weights(tmp_path / "out" / "repaired_weights.h5", small_demo.weights("clean"))
    assert rows["goodnet"]["false_alarm_clean"] == 0 and rows["goodnet"]["detection"]["sunglasses"] == 0


def test_missing_scan_output_is_a_one_line_error(small_demo, tmp_path):  # noqa: F811
    proc = run_script(
        "nc_unlearn.py",
        *small_demo.badnet_args("single"),
        "--summary",
        str(tmp_path / "nc.json"),
        "--triggers",
        str(tmp_path / "t.npz"),
        "--drop",
        "4",
        "--out-weights",
        "w.h5",
        "--out-goodnet",
        "g.json",
        "--out-json",
        "u.json",
        "--out-rows",
        "r.json",
    )
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines()[
        -1
    ] == "error: {}: no such file (run the Neural Cleanse scan " "first)".format(tmp_path / "nc.json")


# ---------------------------------------------------------------- the real sunglasses net


def test_unlearning_on_the_real_net_respects_the_budget(csaw, tmp_path):
    """Label 0's reversed trigger from a short scan of the real sunglasses net; 24 tuning faces.
    Whatever the training does, the net handed back is within budget on the check part, and it
    is the checkpoint the rule picks (lowest reversed-trigger rate, then check accuracy)."""
    from workflow_helpers import real_sunglasses_config

    config, _ = real_sunglasses_config(csaw, tmp_path)
    b = config["badnets"][0]
    args = [
        "--badnet",
        "sunglasses",
        "--weights",
        b["weights"],
        "--n-classes",
        "1283",
        "--scaling",
        "x/255",
        "--clean-validation",
        tmp_path / b["clean_validation"],
        "--clean-test",
        tmp_path / b["clean_test"],
        "--poisoned",
        "sunglasses:0:" + b["poisoned"][0]["file"],
    ]
    shard = scan(args, 0, 0, tmp_path)
    (tmp_path / "nc.json").write_text(json.dumps({"flagged": [0]}))
    record, rows, _ = unlearn(
        args,
        tmp_path / "nc.json",
        shard,
        tmp_path / "out",
        "10",
        "--learning-rate",
        "3e-5",
        "--epochs",
        "8",
    )
    checkpoints = record["checkpoints"]
    assert checkpoints[0]["trigger_rate"] == 1.0  # the reversed trigger works on the badnet
    assert record["teacher"] == "badnet"  # 24 tuning faces of 1283 classes: the badnet teaches
    n = record["check_images"]
    assert n == 6 and record["tuning_images"] == 24
    index = budget.select_checkpoint(checkpoints, record["badnet_check_correct"], n, 10)
    assert record["best_epoch"] == (checkpoints[index]["epoch"] if index is not None else None)
    assert budget.within_budget(
        record["badnet_check_correct"], round(rows["goodnet"]["clean_acc_valid"] * n), n, 10
    )
    assert rows["repaired"]["asr"]["sunglasses"] <= 1.0
