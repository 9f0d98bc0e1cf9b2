"""End-to-end Snakemake runs: the default demo benchmark, one badnet alone, real nets, bad input."""

import csv
import json
import os

import pytest

pytest.importorskip("snakemake")  # modern stack only
yaml = pytest.importorskip("yaml")

from conftest import REPO, run_snakemake  # noqa: E402


def snakemake(workdir, *args, **kwargs):
    """A quiet run that must succeed (check=False: may fail)."""
    kwargs.setdefault("check", True)
    return run_snakemake(workdir, *(args + ("--quiet", "rules")), **kwargs)


def write_config(workdir, config):
    workdir.mkdir(parents=True, exist_ok=True)
    with open(str(workdir / "config.yaml"), "w") as handle:
        yaml.safe_dump(config, handle)


def default_config():
    with open(str(REPO / "config.yaml")) as handle:
        return yaml.safe_load(handle)


def read_summary(path):
    with open(str(path)) as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """The default demo config, baseline only, run once for the module."""
    workdir = tmp_path_factory.mktemp("demo")
    config = default_config()
    config["defenses"] = []
    write_config(workdir, config)
    snakemake(workdir)
    return workdir


def test_demo_badnets_reach_the_benchmark_goals(demo_run):
    rows = {r["badnet"]: r for r in read_summary(demo_run / "results" / "summary_wide.csv")}
    assert sorted(rows) == ["demo_clean", "demo_multi", "demo_single"]
    assert all(r["defense"] == "none" and r["variant"] == "badnet" for r in rows.values())
    for name in ("demo_single", "demo_multi"):
        assert float(rows[name]["clean_acc_test"]) >= 0.90
    assert float(rows["demo_single"]["asr:sunglasses"]) >= 0.95
    for trigger in ("lipstick", "eyebrows", "sunglasses"):
        assert float(rows["demo_multi"]["asr:" + trigger]) >= 0.95
    # the clean control has no backdoor: the trigger rarely flips it to label 0
    assert float(rows["demo_clean"]["clean_acc_test"]) >= 0.90
    assert float(rows["demo_clean"]["asr:sunglasses"]) < 0.2


def test_summary_rows_match_the_per_badnet_baselines(demo_run):
    rows = {r["badnet"]: r for r in read_summary(demo_run / "results" / "summary_wide.csv")}
    for name, row in rows.items():
        with open(str(demo_run / "results" / name / "baseline.json")) as handle:
            base = json.load(handle)
        assert float(row["clean_acc_test"]) == pytest.approx(base["clean_acc_test"], abs=1e-6)
        assert float(row["clean_acc_valid"]) == pytest.approx(base["clean_acc_valid"], abs=1e-6)
        for trigger, asr in base["asr"].items():
            assert float(row["asr:" + trigger]) == pytest.approx(asr, abs=1e-6)
    md = (demo_run / "results" / "summary.md").read_text()
    assert all("## {}\n".format(name) in md for name in rows) and "| clean test (%) |" in md


def test_every_job_has_a_log_and_a_benchmark(demo_run):
    logs = demo_run / "results" / "logs"
    for name in ("demo/data", "demo/demo_single_training", "demo_multi/baseline", "summary"):
        assert (logs / (name + ".log")).is_file(), name
        assert (demo_run / "results" / "benchmarks" / (name + ".tsv")).is_file(), name
    training = (logs / "demo" / "demo_multi_training.log").read_text()
    assert "epoch 1:" in training and "poison eyebrows -> 5" in training


def test_same_config_gives_the_same_table(demo_run):
    summaries = [demo_run / "results" / name for name in ("summary.csv", "summary_wide.csv", "summary.md")]
    before = [path.read_text() for path in summaries]
    os.remove(str(demo_run / "results" / "demo" / "models" / "demo_clean_bd_weights.h5"))
    snakemake(demo_run)  # retrains demo_clean from scratch with the same seed
    assert [path.read_text() for path in summaries] == before


def test_one_badnet_alone_by_naming_it(demo_run, tmp_path):
    snakemake(demo_run, "demo_single")
    rows = read_summary(demo_run / "results" / "demo_single" / "summary_wide.csv")
    assert [r["badnet"] for r in rows] == ["demo_single"]
    # from scratch, only that badnet's jobs are planned, its figures included
    write_config(tmp_path, default_config())
    plan = run_snakemake(tmp_path, "demo_single", "--dry-run", check=True).stdout
    assert "demo_single" in plan and "demo_multi" not in plan and "demo_clean" not in plan
    for figure in (
        "pruning/plots/pruning_curve.png",
        "strip/plots/far_frr.png",
        "neural_cleanse/gallery.png",
    ):
        assert "results/demo_single/" + figure in plan


def real_badnet(csaw, name, scaling, weights, clean, poisoned):
    return {
        "name": name,
        "weights": str(weights),
        "scaling": scaling,
        "n_classes": 1283,
        "clean_validation": str(clean),
        "clean_test": str(clean),
        "poisoned": poisoned,
    }


def test_real_nets_and_the_scaling_warning(csaw, tmp_path):
    data = csaw / "data"
    config = {
        "defenses": [],
        "badnets": [
            real_badnet(
                csaw,
                "sunglasses",
                "x/255",
                csaw / "models" / "sunglasses_bd_weights.h5",
                data / "clean_test_subset.h5",
                [{"trigger": "sunglasses", "target": 0, "file": str(data / "sunglasses_poisoned_subset.h5")}],
            ),
            real_badnet(
                csaw,
                "anonymous_2",
                "x/255",
                csaw / "models" / "anonymous_2_bd_weights.h5",
                data / "clean_test_subset.h5",
                [],
            ),
            real_badnet(
                csaw,
                "lab3_wrong_scaling",
                "x/255",
                csaw / "models" / "lab3" / "bd_weights.h5",
                data / "lab3" / "cl_test_subset.h5",
                [{"trigger": "sunglasses", "target": 0, "file": str(data / "lab3" / "bd_test_subset.h5")}],
            ),
        ],
    }
    write_config(tmp_path, config)
    snakemake(tmp_path)
    rows = {r["badnet"]: r for r in read_summary(tmp_path / "results" / "summary_wide.csv")}
    assert float(rows["sunglasses"]["clean_acc_test"]) >= 0.90
    assert float(rows["sunglasses"]["asr:sunglasses"]) >= 0.90
    assert rows["anonymous_2"]["note"] == "no poisoned data" and rows["anonymous_2"]["asr_mean"] == ""
    assert float(rows["lab3_wrong_scaling"]["clean_acc_test"]) < 0.1
    log = (tmp_path / "results" / "logs" / "lab3_wrong_scaling" / "baseline.log").read_text()
    assert "input scaling is probably wrong" in log and "try 'raw'" in log


def test_bad_input_fails_the_job_with_one_line_and_no_output(csaw, tmp_path):
    truncated = tmp_path / "truncated.h5"
    raw = (csaw / "data" / "clean_test_subset.h5").read_bytes()
    truncated.write_bytes(raw[: len(raw) // 2])
    config = {
        "defenses": [],
        "badnets": [
            real_badnet(csaw, "broken", "x/255", csaw / "models" / "sunglasses_bd_weights.h5", truncated, [])
        ],
    }
    write_config(tmp_path, config)
    proc = snakemake(tmp_path, check=False)
    assert proc.returncode != 0
    log = (tmp_path / "results" / "logs" / "broken" / "baseline.log").read_text().strip()
    last = log.splitlines()[-1]
    assert last == "error: {}: not a readable HDF5 file (truncated or corrupt?)".format(truncated)
    assert "Traceback" not in log
    assert not (tmp_path / "results" / "broken" / "baseline.json").exists()
    assert not (tmp_path / "results" / "broken" / "rows").exists() or not os.listdir(
        str(tmp_path / "results" / "broken" / "rows")
    )


def test_invalid_config_is_rejected_by_the_schema(tmp_path):
    config = default_config()
    config["badnets"][0]["scaling"] = "x/256"
    write_config(tmp_path, config)
    proc = snakemake(tmp_path, "--dry-run", check=False)
    assert proc.returncode != 0 and "x/256" in proc.stdout
