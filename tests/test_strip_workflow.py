"""The STRIP rules in a Snakemake run on the real sunglasses net (shared subset).

Modern stack only (needs Snakemake). Two drops, 10 blends: the rules, not the figures.
"""

import pytest

pytest.importorskip("snakemake")
pytest.importorskip("yaml")

from workflow_helpers import read_summary, real_sunglasses_config, run_snakemake, write_config  # noqa: E402

from bdeval.outputs import read_json  # noqa: E402


def test_strip_rows_plots_and_goodnets_from_the_workflow(csaw, tmp_path):
    config, _ = real_sunglasses_config(
        csaw, tmp_path, drops=[5, 10], defenses=["strip"], strip={"n_blends": 10}
    )
    write_config(tmp_path, config)
    proc = run_snakemake(tmp_path)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert proc.stdout.count("Rule: strip_entropy") <= 1  # one entropy job for both drops
    results = tmp_path / "results"
    rows = read_summary(tmp_path)
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
    write_config(tmp_path, config)
    proc = run_snakemake(tmp_path, "--forceall", str(base.relative_to(tmp_path) / "entropies.npz"))
    assert proc.returncode != 0
    log = (results / "logs" / "sunglasses" / "strip_entropy.log").read_text().strip().splitlines()
    assert log[-1].startswith("error: data/valid.h5: 30 clean images"), log[-1]
