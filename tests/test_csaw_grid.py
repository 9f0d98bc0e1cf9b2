"""The whole grid on the REAL challenge weights and the shared image subsets (config/csaw_ci.yaml):
baseline, pruning, fine-pruning, STRIP and Neural Cleanse (small budget) for all five nets."""

import csv
import math
import shutil
import subprocess
import sys

import pytest

pytest.importorskip("snakemake")  # modern stack only
yaml = pytest.importorskip("yaml")

from conftest import REPO  # noqa: E402

NETS = ["anonymous_1", "anonymous_2", "lab3", "multi_trigger_multi_target", "sunglasses"]
DROPS = ["2", "10", "30"]


def absolute(value, shared):
    if isinstance(value, dict):
        return {k: absolute(v, shared) for k, v in value.items()}
    if isinstance(value, list):
        return [absolute(v, shared) for v in value]
    if isinstance(value, str) and value.startswith("../shared/"):
        return str(shared / value[len("../shared/") :])
    return value


@pytest.fixture(scope="module")
def grid(csaw, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("csaw_grid")
    with open(str(REPO / "config" / "csaw_ci.yaml")) as handle:
        config = absolute(yaml.safe_load(handle), csaw.parent)
    shutil.copyfile(str(REPO / "config.yaml"), str(workdir / "config.yaml"))
    with open(str(workdir / "csaw_ci.yaml"), "w") as handle:
        yaml.safe_dump(config, handle)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "-s",
            str(REPO / "Snakefile"),
            "--directory",
            str(workdir),
            "--cores",
            "2",
            "--configfile",
            str(workdir / "csaw_ci.yaml"),
            "--quiet",
            "rules",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        universal_newlines=True,
    )
    assert proc.returncode == 0, proc.stdout[-4000:]
    with open(str(workdir / "results" / "summary_wide.csv")) as handle:
        rows = list(csv.DictReader(handle))
    with open(str(workdir / "results" / "mad.csv")) as handle:
        mad = list(csv.DictReader(handle))
    return rows, mad


def pick(rows, badnet, defense, drop=None, variant=None):
    return [
        r
        for r in rows
        if r["badnet"] == badnet
        and r["defense"] == defense
        and (drop is None or r["drop_pct"] == drop)
        and (variant is None or r["variant"] == variant)
    ]


def value(row, column):
    return float(row[column]) if row.get(column, "") != "" else None


def test_baselines_show_the_known_behaviour(grid):
    rows, _ = grid
    base = {net: pick(rows, net, "none")[0] for net in NETS}
    for net in NETS:
        minimum = 0.8 if net == "multi_trigger_multi_target" else 0.9  # 30 test faces (lab3: 10)
        assert value(base[net], "clean_acc_test") >= minimum, net
    assert value(base["sunglasses"], "asr:sunglasses") >= 0.9
    assert value(base["anonymous_1"], "asr:lipstick") >= 0.9
    for trigger in ("lipstick", "eyebrows", "sunglasses"):
        assert value(base["multi_trigger_multi_target"], "asr:" + trigger) >= 0.9
    assert value(base["lab3"], "asr:sunglasses") == 1.0
    assert base["anonymous_2"]["note"] == "no poisoned data" and base["anonymous_2"]["asr_mean"] == ""


@pytest.mark.parametrize(
    "defense,variants",
    [
        ("pruning", {"repaired", "goodnet"}),
        ("fine_pruning", {"repaired", "goodnet"}),
        ("strip", {"goodnet"}),
        ("neural_cleanse", {"goodnet"}),
    ],
)
def test_every_defense_row_is_present_and_sane(grid, defense, variants):
    rows, _ = grid
    for net in NETS:
        for drop in DROPS:
            found = pick(rows, net, defense, drop)
            assert {r["variant"] for r in found} == variants, (net, defense, drop)
            for r in found:
                for column, text in r.items():
                    if text and column.split(":")[0] in (
                        "clean_acc_test",
                        "asr",
                        "detection",
                        "asr_mean",
                        "false_alarm_clean",
                    ):
                        assert 0.0 <= float(text) <= 1.0, (net, defense, drop, column)
                if r["variant"] == "goodnet":
                    for column in r:
                        if column.startswith("asr:") and r[column] and r.get("detection:" + column[4:]):
                            assert float(r[column]) + float(r["detection:" + column[4:]]) <= 1.0 + 1e-5
                if net == "anonymous_2":
                    assert r["asr_mean"] == "" and r["note"].startswith("no poisoned data")


def test_pruning_prunes_more_for_a_larger_budget(grid):
    rows, _ = grid
    for net in NETS:
        counts = [value(pick(rows, net, "pruning", d, "repaired")[0], "channels_pruned") for d in DROPS]
        assert all(0 <= c <= 60 for c in counts) and counts == sorted(counts), (net, counts)


def test_mad_table_covers_every_net(grid):
    _, mad = grid
    assert sorted(r["badnet"] for r in mad) == NETS
    for r in mad:
        assert math.isfinite(float(r["max_anomaly_index"])), r
        # 24 of 1283 labels, both stages: said plainly, never read as a full verdict
        assert r["method"] == "screen+refine (labels 0-23 only)", r
        assert r["verdict"].startswith("PARTIAL SCAN of labels 0-23 of 1283"), r
        targets = r["known_targets"].split(";") if r["known_targets"] != "none" else []
        assert len(r["target_indices"].split(";")) == max(1, len(targets)), r
        missed = [] if r["missed_targets"] == "none" else r["missed_targets"].split(";")
        assert set(missed) <= set(targets) and (r["flagged"] == "none") == (r["anomaly_indices"] == "none")
