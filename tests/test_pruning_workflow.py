"""The pruning and fine-pruning rules in a Snakemake run on the real sunglasses net (shared subset).

Modern stack only (needs Snakemake). One drop%, one fine-tuning epoch: the rules, not the figures.
"""
import csv
import subprocess
import sys

import pytest

pytest.importorskip("snakemake")
yaml = pytest.importorskip("yaml")

from conftest import REPO  # noqa: E402

from bdeval.datasets import load_dataset, save_dataset  # noqa: E402


def test_pruning_rows_plots_and_goodnets_from_the_workflow(csaw, tmp_path):
    clean = load_dataset(csaw / "data" / "clean_test_subset.h5", 1283)
    save_dataset(tmp_path / "data" / "valid.h5", clean.x[::2], clean.y[::2])
    save_dataset(tmp_path / "data" / "test.h5", clean.x[1::2], clean.y[1::2])
    config = {
        "drops": [10], "defenses": ["pruning", "fine_pruning"],
        "pruning": {"fine_tune_epochs": 1},
        "badnets": [{
            "name": "sunglasses", "weights": str(csaw / "models" / "sunglasses_bd_weights.h5"),
            "scaling": "x/255", "n_classes": 1283, "clean_validation": "data/valid.h5",
            "clean_test": "data/test.h5",
            "poisoned": [{"trigger": "sunglasses", "target": 0,
                          "file": str(csaw / "data" / "sunglasses_poisoned_subset.h5")}]}],
    }
    with open(str(tmp_path / "config.yaml"), "w") as handle:
        yaml.safe_dump(config, handle)
    proc = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"),
                           "--directory", str(tmp_path), "--cores", "2"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    assert proc.returncode == 0, proc.stdout[-4000:]
    results = tmp_path / "results"
    with open(str(results / "summary.csv")) as handle:
        rows = list(csv.DictReader(handle))
    keys = sorted((r["defense"], r["drop_pct"], r["variant"]) for r in rows)
    assert keys == [("fine_pruning", "10", "goodnet"), ("fine_pruning", "10", "repaired"),
                    ("none", "", "badnet"), ("pruning", "10", "goodnet"), ("pruning", "10", "repaired")]
    for r in rows:
        if r["defense"] != "none":
            assert 0 < int(r["channels_pruned"]) < 60 and r["asr:sunglasses"] != ""
            if r["variant"] == "goodnet":
                assert r["detection:sunglasses"] != ""
    for name in ("pruning_curve.png", "activation_maps.png"):
        assert (results / "sunglasses" / "pruning" / "plots" / name).is_file()
    for defense in ("pruning", "fine_pruning"):
        assert (results / "sunglasses" / defense / "10" / "goodnet.json").is_file()
        assert (results / "logs" / "sunglasses" / (defense + ("" if defense == "pruning" else "_10"))
                ).with_suffix(".log").is_file()
    # the per-image command finds the workflow's GoodNet
    face = tmp_path / "face.png"
    from bdeval.images import save_image

    save_image(face, clean.x[1])
    out = subprocess.run([sys.executable, str(REPO / "scripts" / "classify_image.py"), str(face),
                          "--badnet", "sunglasses", "--defense", "fine_pruning", "--drop", "10",
                          "--results", str(results)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, universal_newlines=True)
    assert out.returncode == 0, out.stderr
    path, label = out.stdout.strip().split("\t")
    assert path == str(face) and 0 <= int(label) <= 1283
