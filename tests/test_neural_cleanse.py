"""Neural Cleanse on demo badnets built by the real scripts: resume after a killed shard,
detection of the single-target BadNet's target, no flag on the clean control, mitigation rows.
Python 3.7 syntax: runs on both stacks."""

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import SCRIPTS, script_output as run

from bdeval.neural_cleanse import store as nc_store

# The workflow's demo settings (config.yaml `demo`), 16 identities, fewer test faces.
DEMO16 = {
    "n_classes": 16,
    "seed": 1,
    "train_per_class": 150,
    "valid_per_class": 30,
    "test_per_class": 10,
    "epochs": 8,
    "batch_size": 64,
    "learning_rate": 0.001,
    "poison_fraction": 0.1,
}
DEMO16_MODELS = {"single": [("sunglasses", 0)], "clean": []}
QUICK = '{"epochs": 6}'


def scan_args(badnet_args, out, progress, first=0, last=7, settings=QUICK, memory_mb=20):
    # memory_mb 20 with mini-batches of 10: 2 labels per tensor
    return list(badnet_args) + [
        "--first",
        first,
        "--last",
        last,
        "--settings",
        settings,
        "--memory-mb",
        memory_mb,
        "--threads",
        2,
        "--seed",
        5,
        "--progress-dir",
        progress,
        "--out",
        out,
    ]


def gather(shards, name, n_classes, out_dir, poisoned=()):
    args = [str(s) for s in shards] + ["--badnet", name, "--n-classes", n_classes]
    for trigger, target, path in poisoned:
        args += ["--poisoned", "{}:{}:{}".format(trigger, target, path)]
    args += [
        "--out-csv",
        out_dir / "norms.csv",
        "--out-npz",
        out_dir / "triggers.npz",
        "--out-json",
        out_dir / "nc.json",
        "--out-png",
        out_dir / "gallery.png",
    ]
    run("nc_gather.py", *args)
    with open(str(out_dir / "nc.json")) as handle:
        return json.load(handle)


def test_resume_after_a_killed_shard_gives_the_same_norms(small_demo, tmp_path):  # noqa: F811
    args = small_demo.badnet_args("single")
    run("nc_scan_shard.py", *scan_args(args, tmp_path / "whole.npz", tmp_path / "p_whole"))
    progress = tmp_path / "p_killed"
    cmd = [sys.executable, str(SCRIPTS / "nc_scan_shard.py")] + [
        str(a) for a in scan_args(args, tmp_path / "killed.npz", progress)
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if len(list(progress.glob("label_*.npz"))) >= 2:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the shard finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    saved = len(list(progress.glob("label_*.npz")))
    assert 2 <= saved < 8 and not (tmp_path / "killed.npz").exists()
    log = run("nc_scan_shard.py", *scan_args(args, tmp_path / "killed.npz", progress))
    assert "already done" in log
    whole, _ = nc_store.load_results(tmp_path / "whole.npz")
    resumed, _ = nc_store.load_results(tmp_path / "killed.npz")
    assert [r["label"] for r in resumed] == list(range(8))
    np.testing.assert_allclose([r["l1_norm"] for r in resumed], [r["l1_norm"] for r in whole], rtol=1e-6)
    np.testing.assert_allclose(resumed[3]["mask"], whole[3]["mask"], atol=1e-6)


def test_progress_of_other_settings_is_not_reused(small_demo, tmp_path):  # noqa: F811
    args = small_demo.badnet_args("clean")
    progress = tmp_path / "p"
    run("nc_scan_shard.py", *scan_args(args, tmp_path / "a.npz", progress, 0, 1, '{"epochs": 2}'))
    log = run("nc_scan_shard.py", *scan_args(args, tmp_path / "b.npz", progress, 0, 1, '{"epochs": 3}'))
    assert "already done" not in log
    assert max(r["epochs"] for r in nc_store.load_results(tmp_path / "b.npz")[0]) == 3


class Demo16(object):
    """The workflow demo's data and models (16 identities), built by the real scripts."""

    def __init__(self, root):
        self.root, self.data = root, root / "data"
        args = [
            "--out-dir",
            self.data,
            "--n-classes",
            16,
            "--seed",
            DEMO16["seed"],
            "--train-per-class",
            DEMO16["train_per_class"],
            "--valid-per-class",
            DEMO16["valid_per_class"],
            "--test-per-class",
            DEMO16["test_per_class"],
            "--poison",
            "sunglasses:0",
        ]
        run("make_demo_data.py", *args)

    def badnet_args(self, name):
        weights = self.root / "{}.h5".format(name)
        if not weights.exists():
            args = [
                "--train",
                self.data / "clean_train.h5",
                "--valid",
                self.data / "clean_validation.h5",
                "--n-classes",
                16,
                "--poison-fraction",
                DEMO16["poison_fraction"],
                "--epochs",
                DEMO16["epochs"],
                "--batch-size",
                DEMO16["batch_size"],
                "--learning-rate",
                DEMO16["learning_rate"],
                "--seed",
                DEMO16["seed"],
                "--threads",
                2,
                "--out",
                weights,
                "--report",
                self.root / (name + ".json"),
            ]
            for trigger, target in DEMO16_MODELS[name]:
                args += ["--poison", "{}:{}".format(trigger, target)]
            run("train_demo_badnet.py", *args)
        return [
            "--badnet",
            name,
            "--weights",
            weights,
            "--n-classes",
            16,
            "--scaling",
            "x/255",
            "--clean-validation",
            self.data / "clean_validation.h5",
            "--clean-test",
            self.data / "clean_test.h5",
            "--poisoned",
            "sunglasses:0:{}".format(self.data / "sunglasses_to_0_test.h5"),
        ]


@pytest.fixture(scope="module")
def demo16(tmp_path_factory):
    return Demo16(tmp_path_factory.mktemp("nc_demo16"))


@pytest.fixture(scope="module")
def scans(demo16, tmp_path_factory):
    """Default-schedule scans of the single-target BadNet and the clean control, two shards each."""
    out = {}
    for name in ("single", "clean"):
        root = tmp_path_factory.mktemp("nc_" + name)
        shards = []
        for first, last in ((0, 7), (8, 15)):
            shard = root / "{}-{}.npz".format(first, last)
            run(
                "nc_scan_shard.py",
                *(
                    demo16.badnet_args(name)
                    + [
                        "--first",
                        first,
                        "--last",
                        last,
                        "--threads",
                        2,
                        "--seed",
                        1,
                        "--progress-dir",
                        root / "progress",
                        "--out",
                        shard,
                    ]
                ),
            )
            shards.append(shard)
        poisoned = [("sunglasses", 0, demo16.data / "sunglasses_to_0_test.h5")]
        out[name] = (root, gather(shards, name, 16, root, poisoned))
    return out


def test_single_target_badnet_its_target_smallest_and_nothing_else_flagged(scans):
    # the screening alone on 16 labels: the target's trigger is the smallest and stands furthest
    # below the median (index 2.05 on TF 2, 1.79 on TF 1.15: at the paper's threshold, 16-label
    # MAD noise); the workflow's verdict is the two-stage one (test_two_stage_verdict_on_the_demo)
    root, summary = scans["single"]
    assert set(summary["flagged"]) <= {0}, summary
    assert summary["targets"]["0"]["rank"] == 1
    assert summary["max_anomaly_index"] == pytest.approx(summary["targets"]["0"]["anomaly_index"])
    assert summary["missed_targets"] == ([] if summary["flagged"] == [0] else [0])
    with open(str(root / "norms.csv")) as handle:
        rows = handle.read().splitlines()
    header = rows[0].split(",")
    assert header[:5] == ["label", "stage", "l1_norm", "anomaly_index", "flagged"]
    assert len(rows) == 17 and rows[1].split(",")[1] == "screen"
    assert summary["method"] == "screen"
    assert (root / "gallery.png").stat().st_size > 1000


def test_mitigation_rows_and_goodnet(scans, demo16, tmp_path):
    from bdeval import goodnet
    from bdeval.datasets import load_dataset

    for name in ("single", "clean"):
        root, summary = scans[name]
        spec, rows = tmp_path / (name + "_goodnet.json"), tmp_path / (name + "_rows.json")
        # the filter of the target and none on the clean control (on 16 labels the screening's
        # own flags are noisy; the workflow acts on the two-stage verdict, tested below)
        summary = dict(summary, flagged=[0] if name == "single" else [])
        (tmp_path / (name + "_nc.json")).write_text(json.dumps(summary))
        run(
            "nc_mitigate.py",
            *(
                demo16.badnet_args(name)
                + [
                    "--drop",
                    10,
                    "--summary",
                    tmp_path / (name + "_nc.json"),
                    "--triggers",
                    root / "triggers.npz",
                    "--threads",
                    2,
                    "--out-spec",
                    spec,
                    "--out-rows",
                    rows,
                ]
            ),
        )
        with open(str(rows)) as handle:
            row = json.load(handle)[0]
        assert row["defense"] == "neural_cleanse" and row["variant"] == "goodnet"
        assert row["nc_flagged"] == summary["flagged"]
        assert row["nc_max_anomaly_index"] == pytest.approx(summary["max_anomaly_index"])
        if name == "clean":
            assert "no label flagged" in row["note"] and row["frr_valid"] == 0
            continue
        assert row["frr_valid"] == pytest.approx(0.10, abs=0.02)
        assert row["detection"]["sunglasses"] > 0.5
        poisoned = load_dataset(demo16.data / "sunglasses_to_0_test.h5", 16)
        answers = goodnet.answer(goodnet.load_spec(spec), poisoned.x)
        assert np.mean(answers == 16) == pytest.approx(row["detection"]["sunglasses"])


def refine(demo16, name, root, tmp_path, epochs=20):
    """Select (16 labels: all refined) and refine the scan of `name` (warm-started, a short
    budget: the default schedule's 400 epochs take minutes), then gather both stages."""
    shards = sorted(root.glob("[0-9]*-*.npz"))
    plan, starts = tmp_path / "plan.json", tmp_path / "starts.npz"
    run(
        "nc_select.py",
        *(
            [str(s) for s in shards]
            + [
                "--n-labels",
                16,
                "--candidates",
                4,
                "--reference",
                20,
                "--out-plan",
                plan,
                "--out-starts",
                starts,
            ]
        ),
    )
    parts = []
    for part in (0, 1):
        out = tmp_path / "part_{}.npz".format(part)
        run(
            "nc_refine_shard.py",
            *(
                demo16.badnet_args(name)
                + [
                    "--plan",
                    plan,
                    "--starts",
                    starts,
                    "--part",
                    part,
                    "--parts",
                    2,
                    "--settings",
                    '{"epochs": %d}' % epochs,
                    "--threads",
                    2,
                    "--seed",
                    1,
                    "--progress-dir",
                    tmp_path / "progress",
                    "--out",
                    out,
                ]
            ),
        )
        parts.append(out)
    args = (
        [str(s) for s in shards]
        + ["--refined"]
        + [str(p) for p in parts]
        + [
            "--plan",
            plan,
            "--badnet",
            name,
            "--n-classes",
            16,
            "--poisoned",
            "sunglasses:0:{}".format(demo16.data / "sunglasses_to_0_test.h5"),
            "--trigger-rows",
            "sunglasses:15:34",
            "--out-csv",
            tmp_path / "norms.csv",
            "--out-npz",
            tmp_path / "triggers.npz",
            "--out-json",
            tmp_path / "nc.json",
            "--out-png",
            tmp_path / "gallery.png",
        ]
    )
    run("nc_gather.py", *args)
    with open(str(tmp_path / "nc.json")) as handle:
        return json.load(handle)


def test_two_stage_verdict_on_the_demo(scans, demo16, tmp_path):
    single = refine(demo16, "single", scans["single"][0], tmp_path / "single")
    assert single["method"] == "screen+refine" and single["refine"]["all_labels"]
    assert single["flagged"] == [0], single["verdict"]
    details = single["flagged_details"]["0"]
    assert details["test_attack_success"] > 0.9  # the reversed trigger works on held-out faces
    assert 0 <= details["overlap"]["sunglasses"] <= 1
    assert single["targets"]["0"]["rank"] == 1 and single["targets"]["0"]["stage"] == "refined"
    with open(str(tmp_path / "single" / "norms.csv")) as handle:
        stages = {line.split(",")[1] for line in handle.read().splitlines()[1:]}
    assert stages == {"refined"}
    assert single["weak"] == [] and single["verdict"].startswith("Backdoor target(s) flagged: 0")
    # the clean control: refined too, and nothing on it stands out as far as the real target
    clean = refine(demo16, "clean", scans["clean"][0], tmp_path / "clean")
    assert clean["method"] == "screen+refine"
    assert clean["flagged"] == [], clean["verdict"]
    assert clean["max_anomaly_index"] < single["anomaly_index"]["0"], clean["verdict"]
