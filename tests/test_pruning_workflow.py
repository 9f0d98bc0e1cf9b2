"""The pruning and fine-pruning rules in a Snakemake run on the real sunglasses net (shared subset).

Modern stack only (needs Snakemake). One drop%, one fine-tuning epoch: the rules, not the figures.
"""

import subprocess
import sys

import pytest

pytest.importorskip("snakemake")
pytest.importorskip("yaml")

from conftest import REPO  # noqa: E402
from workflow_helpers import read_summary, real_sunglasses_config, run_snakemake, write_config  # noqa: E402


def test_pruning_rows_plots_and_goodnets_from_the_workflow(csaw, tmp_path):
    config, clean = real_sunglasses_config(
        csaw, tmp_path, drops=[10], defenses=["pruning", "fine_pruning"], pruning={"fine_tune_epochs": 1}
    )
    write_config(tmp_path, config)
    proc = run_snakemake(tmp_path)
    assert proc.returncode == 0, proc.stdout[-4000:]
    results = tmp_path / "results"
    rows = read_summary(tmp_path)
    keys = sorted((r["defense"], r["drop_pct"], r["variant"]) for r in rows)
    assert keys == [
        ("fine_pruning", "10", "goodnet"),
        ("fine_pruning", "10", "repaired"),
        ("none", "", "badnet"),
        ("pruning", "10", "goodnet"),
        ("pruning", "10", "repaired"),
    ]
    for r in rows:
        if r["defense"] != "none":
            assert 0 < int(r["channels_pruned"]) < 60 and r["asr:sunglasses"] != ""
            if r["variant"] == "goodnet":
                assert r["detection:sunglasses"] != ""
    for name in ("pruning_curve.png", "activation_maps.png"):
        assert (results / "sunglasses" / "pruning" / "plots" / name).is_file()
    # the pruning job writes its rows where the summary reads them (no copy step)
    assert (results / "sunglasses" / "rows" / "pruning_10.json").is_file()
    assert not (results / "sunglasses" / "pruning" / "10" / "rows.json").exists()
    for defense in ("pruning", "fine_pruning"):
        assert (results / "sunglasses" / defense / "10" / "goodnet.json").is_file()
        assert (
            (results / "logs" / "sunglasses" / (defense + ("" if defense == "pruning" else "_10")))
            .with_suffix(".log")
            .is_file()
        )
    # the per-image command finds the workflow's GoodNet
    face = tmp_path / "face.png"
    from bdeval.images import save_image

    save_image(face, clean.x[1])
    out = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "classify_image.py"),
            str(face),
            "--badnet",
            "sunglasses",
            "--defense",
            "fine_pruning",
            "--drop",
            "10",
            "--results",
            str(results),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        universal_newlines=True,
    )
    assert out.returncode == 0, out.stderr
    path, label = out.stdout.strip().split("\t")
    assert path == str(face) and 0 <= int(label) <= 1283
