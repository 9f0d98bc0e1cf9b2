"""The STRIP rules in a Snakemake run on the real sunglasses net (shared subset).

Modern stack only (needs Snakemake). Two drops, 10 blends: the rules, not the figures.
"""
import csv
import subprocess
import sys

import pytest

pytest.importorskip("snakemake")
yaml = pytest.importorskip("yaml")

from conftest import REPO  # noqa: E402

from bdeval.datasets import load_dataset, save_dataset  # noqa: E402
from bdeval.outputs import read_json  # noqa: E402


def snakemake(workdir, *args):
    return subprocess.run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"),
                           "--directory", str(workdir), "--cores", "2"] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)


def test_strip_rows_plots_and_goodnets_from_the_workflow(csaw, tmp_path):
    clean = load_dataset(csaw / "data" / "clean_test_subset.h5", 1283)
    save_dataset(tmp_path / "data" / "valid.h5", clean.x[::2], clean.y[::2])
    save_dataset(tmp_path / "data" / "test.h5", clean.x[1::2], clean.y[1::2])
    config = {
        "drops": [5, 10], "defenses": ["strip"],
        "strip": {"n_blends": 10},
        "badnets": [{
            "name": "sunglasses", "weights": str(csaw / "models" / "sunglasses_bd_weights.h5"),
            "scaling": "x/255", "n_classes": 1283, "clean_validation": "data/valid.h5",
            "clean_test": "data/test.h5",
            "poisoned": [{"trigger": "sunglasses", "target": 0,
                          "file": str(csaw / "data" / "sunglasses_poisoned_subset.h5")}]}],
    }
    with open(str(tmp_path / "config.yaml"), "w") as handle:
        yaml.safe_dump(config, handle)
    proc = snakemake(tmp_path)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert proc.stdout.count("Rule: strip_entropy") <= 1  # one entropy job for both drops
    results = tmp_path / "results"
    with open(str(results / "summary.csv")) as handle:
        rows = list(csv.DictReader(handle))
    keys = sorted((r["defense"], r["drop_pct"], r["variant"]) for r in rows)
    assert keys == [("none", "", "badnet"), ("strip", "10", "goodnet"), ("strip", "5", "goodnet")]
    for r in rows:
        if r["defense"] == "strip":
            assert float(r["frr_valid"]) <= float(r["drop_pct"]) / 100 + 1e-9
            assert 0 <= float(r["far:sunglasses"]) < 0.7
            assert r["method"] == "percentile" and r["n_blends"] == "10"
    base = results / "sunglasses" / "strip"
    for name in ("entropy_histograms.png", "far_frr.png"):
        assert (base / "plots" / name).is_file()
    for drop in ("5", "10"):
        spec = read_json(base / drop / "goodnet.json")
        assert spec["kind"] == "strip" and spec["blend_pool"] == "data/valid.h5"
        assert (results / "logs" / "sunglasses" / "strip_{}.log".format(drop)).is_file()
        assert (results / "benchmarks" / "sunglasses" / "strip_{}.tsv".format(drop)).is_file()

    # too few clean validation images for the configured blends: the job fails with one line
    config["strip"]["n_blends"] = 31
    with open(str(tmp_path / "config.yaml"), "w") as handle:
        yaml.safe_dump(config, handle)
    proc = snakemake(tmp_path, "--forceall", str(base.relative_to(tmp_path) / "entropies.npz"))
    assert proc.returncode != 0
    log = (results / "logs" / "sunglasses" / "strip_entropy.log").read_text().strip().splitlines()
    assert log[-1].startswith("error: data/valid.h5: 30 clean images"), log[-1]
