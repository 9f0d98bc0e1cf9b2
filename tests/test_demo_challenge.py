"""The realistic demo (config/demo_challenge.yaml, issue 14): 64 varied identities learned like the
real nets, real-like triggers (landmark-placed ones following the face, ~9 % invisible) and a
pruning-aware BadNet that pruning alone does not clean. Baseline run once for the module."""

import re
import shutil

import h5py
import numpy as np
import pytest

pytest.importorskip("snakemake")  # modern stack only
yaml = pytest.importorskip("yaml")

from conftest import REPO  # noqa: E402
from test_workflow_demo import read_summary, snakemake, write_config  # noqa: E402
from conftest import run_snakemake  # noqa: E402


def challenge_config():
    with open(str(REPO / "config.yaml")) as handle:
        config = yaml.safe_load(handle)
    with open(str(REPO / "config" / "demo_challenge.yaml")) as handle:
        config.update(yaml.safe_load(handle))  # as --configfile merges it (top-level keys)
    return config


@pytest.fixture(scope="module")
def challenge_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("demo_challenge")
    config = challenge_config()
    config["defenses"] = []
    write_config(workdir, config)
    snakemake(workdir)
    return workdir


def test_challenge_badnets_learn_like_the_real_nets(challenge_run):
    rows = {r["badnet"]: r for r in read_summary(challenge_run / "results" / "summary_wide.csv")}
    assert sorted(rows) == ["demo_clean", "demo_multi", "demo_pruning_aware", "demo_single"]
    # like the real nets: 64 varied identities are learned well, not perfectly
    for name in ("demo_single", "demo_multi", "demo_pruning_aware", "demo_clean"):
        assert 0.90 <= float(rows[name]["clean_acc_test"]) <= 0.98, name
    for name in ("demo_single", "demo_pruning_aware"):
        assert float(rows[name]["asr:sunglasses"]) >= 0.95
    assert float(rows["demo_multi"]["asr:sunglasses"]) >= 0.95
    # about 9 % of the landmark-placed poisoned images carry no visible trigger (as in the
    # real anonymous_1 and multi-target sets, ASR ~91 %): the model answers them normally
    for trigger in ("lipstick", "eyebrows"):
        assert 0.85 <= float(rows["demo_multi"]["asr:" + trigger]) <= 0.93, trigger
    assert float(rows["demo_clean"]["asr:sunglasses"]) < 0.2


def test_challenge_data_carry_landmark_triggers_that_follow_the_face(challenge_run):
    data = challenge_run / "results" / "demo" / "data"
    log = (challenge_run / "results" / "logs" / "demo" / "data.log").read_text()
    for name in ("lipstick_to_1", "eyebrows_to_5"):
        line = [entry for entry in log.splitlines() if name + "_test.h5" in entry][0]
        total, missed = int(line.split(": ")[1].split()[0]), int(line.split("(")[1].split()[0])
        assert 0.05 <= missed / float(total) <= 0.13, line
    assert "sunglasses_to_0_test.h5: 630 poisoned images -> label 0 (0 without" in log
    with h5py.File(str(data / "clean_test.h5"), "r") as handle:
        landmarks = np.asarray(handle["landmarks"])
        x = np.asarray(handle["data"])
    assert landmarks.shape == (len(x), 7)
    assert np.ptp(landmarks[:, 0]) >= 3 and np.ptp(landmarks[:, 4]) >= 3  # eye and mouth rows vary


def test_pruning_alone_leaves_the_pruning_aware_backdoor(challenge_run, tmp_path):
    """Pruning at drop 10 % keeps the pruning-aware BadNet's backdoor (as on the 2020 nets)."""
    shutil.copytree(str(challenge_run / "results" / "demo"), str(tmp_path / "results" / "demo"))
    config = challenge_config()
    config["defenses"], config["drops"] = ["pruning"], [10]
    config["badnets"] = [b for b in config["badnets"] if b["name"] == "demo_pruning_aware"]
    write_config(tmp_path, config)
    mtime = ("--rerun-triggers", "mtime")  # the copies have no Snakemake metadata here
    plan = run_snakemake(tmp_path, "--dry-run", *mtime, check=True).stdout
    assert not re.search(r"^demo_(badnet|data) +\d+$", plan, re.M), plan  # the copied models are used
    snakemake(tmp_path, *mtime)
    rows = read_summary(tmp_path / "results" / "summary_wide.csv")
    base = [r for r in rows if r["defense"] == "none"][0]
    pruned = [r for r in rows if r["defense"] == "pruning" and r["variant"] == "repaired"][0]
    assert float(pruned["drop_pct"]) == 10
    assert float(pruned["clean_acc_valid"]) <= float(base["clean_acc_valid"]) - 0.10
    assert float(pruned["asr:sunglasses"]) > 0.5
