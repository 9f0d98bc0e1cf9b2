"""The defense registry: a new defense is one room (a rule file, a script, a module and one
registry entry) and shows in the summary, the report and the per-image command with no other edit.

The toy defense is a real, if weak, one: the GoodNet calls an input poisoned when the badnet is
more confident than on all but drop% of the clean validation faces. It runs on the real
sunglasses net in a copy of the workflow. Modern stack only (needs Snakemake).
"""

import json
import shutil

import numpy as np
import pytest

pytest.importorskip("snakemake")
pytest.importorskip("yaml")

from conftest import REPO, SCRIPTS, run_python, run_script, run_snakemake  # noqa: E402
from workflow_helpers import read_summary, real_sunglasses_config, write_config  # noqa: E402

from bdeval import defenses, rows  # noqa: E402
from bdeval.images import save_image  # noqa: E402

TOY_RULES = """
rule toy:
    input:
        unpack(badnet_inputs),
    output:
        rows="results/{badnet}/rows/toy_{drop}.json",
        spec="results/{badnet}/toy/{drop}/goodnet.json",
    params:
        badnet=badnet_args,
    log:
        log_path("{badnet}/toy_{drop}"),
    benchmark:
        bench_path("{badnet}/toy_{drop}")
    shell:
        f"{PYTHON} {SCRIPTS}/toy_defense.py" " {params.badnet} --drop {wildcards.drop}"
        " --out-rows {output.rows} --out-spec {output.spec} > {log} 2>&1"


rule toy_plot:
    output:
        report("results/{badnet}/toy/plots/mark.png", category="Toy", subcategory="{badnet}"),
    log:
        log_path("{badnet}/toy_plot"),
    benchmark:
        bench_path("{badnet}/toy_plot")
    shell:
        f"{PYTHON} {SCRIPTS}/toy_defense.py" " --out-png {output} > {log} 2>&1"
"""

TOY_SCRIPT = '''#!/usr/bin/env python
"""Toy defense: flag inputs the badnet is over-confident on (FRR = drop% on clean validation)."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from bdeval import tfcompat, toy_confidence  # noqa: E402
from bdeval.badnet import load_badnet_model, load_eval_data  # noqa: E402
from bdeval.cli import add_badnet_args  # noqa: E402
from bdeval.errors import run_cli  # noqa: E402
from bdeval.images import save_image  # noqa: E402
from bdeval.metrics import goodnet_metrics  # noqa: E402
from bdeval.outputs import write_json  # noqa: E402
from bdeval.rows import make_row  # noqa: E402


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--out-png"]:  # the toy's figure: a grey square
        save_image(argv[1], np.full((55, 47, 3), 128, np.uint8))
        return 0
    parser = argparse.ArgumentParser()
    add_badnet_args(parser)
    parser.add_argument("--drop", type=float, required=True)
    parser.add_argument("--out-rows", required=True)
    parser.add_argument("--out-spec", required=True)
    args = parser.parse_args(argv)
    tfcompat.configure(args.seed, args.threads)
    data, model = load_eval_data(args), load_badnet_model(args)
    spec = {"kind": "toy_confidence", "badnet": args.badnet, "weights": args.weights,
            "n_classes": args.n_classes, "scaling": args.scaling}
    spec["threshold"] = toy_confidence.threshold(model, spec, data.clean_validation.x, args.drop)
    answer = lambda x: toy_confidence.answer_with(model, spec, x, args.batch_size)  # noqa: E731
    clean = answer(data.clean_validation.x)
    good = goodnet_metrics(answer(data.clean_test.x), data.clean_test.y,
                           {p.trigger: (answer(p.data.x), p.target) for p in data.poisoned},
                           args.n_classes)
    row = make_row(args.badnet, "toy", args.drop, "goodnet", clean_acc_test=good["clean_acc_test"],
                   asr=good["asr"], detection=good["detection"],
                   flagged_share=float(np.mean(clean == args.n_classes)))
    write_json(args.out_spec, spec)
    write_json(args.out_rows, [row])
    return 0


if __name__ == "__main__":
    run_cli(main)
'''

TOY_MODULE = '''"""Toy GoodNet kind 'toy_confidence': N when the badnet's top probability exceeds a threshold."""
import numpy as np

from .inference import predict_proba


def threshold(model, spec, x_clean, drop_pct):
    top = predict_proba(model, x_clean, spec["scaling"]).max(axis=1)
    return float(np.percentile(top, 100.0 - drop_pct))


def answer_with(model, spec, x_raw, batch_size=256):
    proba = predict_proba(model, x_raw, spec["scaling"], batch_size)
    return np.where(proba.max(axis=1) > spec["threshold"], spec["n_classes"], proba.argmax(axis=1))


def goodnet_answer(spec, x_raw, batch_size=256):
    from .weights import load_model

    return answer_with(load_model(spec["weights"], spec["n_classes"]), spec, x_raw, batch_size)
'''

TOY_ENTRY = """
REGISTRY += (
    defense("toy", "toy.smk", {"toy_confidence": "bdeval.toy_confidence"},
            plots=["results/{badnet}/toy/plots/mark.png"], fraction_columns=["flagged_share"]),
)
"""

IGNORE = shutil.ignore_patterns(
    ".git", ".venv*", ".snakemake", ".bench", "results", "tests", "__pycache__", "*.pyc"
)


@pytest.fixture(scope="module")
def toy_workflow(tmp_path_factory, csaw):
    """A copy of the workflow with the toy defense's four pieces added, run on the real net."""
    root = tmp_path_factory.mktemp("toy")
    repo = root / "workflow"
    shutil.copytree(str(REPO), str(repo), ignore=IGNORE)
    (repo / "rules" / "toy.smk").write_text(TOY_RULES)
    (repo / "scripts" / "toy_defense.py").write_text(TOY_SCRIPT)
    (repo / "scripts" / "bdeval" / "toy_confidence.py").write_text(TOY_MODULE)
    with open(str(repo / "scripts" / "bdeval" / "defenses.py"), "a") as handle:
        handle.write(TOY_ENTRY)
    work = root / "run"
    (work / "data").mkdir(parents=True)
    config, clean = real_sunglasses_config(csaw, work, drops=[10], defenses=["toy"])
    write_config(work, config)
    run_snakemake(work, snakefile=repo / "Snakefile", check=True)
    return {"repo": repo, "work": work, "clean": clean}


def test_the_toy_defense_is_in_the_summary(toy_workflow):
    work = toy_workflow["work"]
    toy = [r for r in read_summary(work) if r["defense"] == "toy"]
    assert [(r["drop_pct"], r["variant"]) for r in toy] == [("10", "goodnet")]
    assert 0 <= float(toy[0]["flagged_share"]) <= 0.1 + 1e-9  # its FRR on clean validation
    assert "\n| toy | 10 | goodnet |" in (work / "results" / "summary.md").read_text()
    tidy = (work / "results" / "summary.csv").read_text()
    assert ",toy,10,goodnet,flagged_share,," in tidy  # its own field, one value per line
    assert (work / "results" / "sunglasses" / "toy" / "plots" / "mark.png").is_file()


def test_the_toy_defense_is_in_the_report(toy_workflow):
    work = toy_workflow["work"]
    run_snakemake(work, "--report", "report.html", snakefile=toy_workflow["repo"] / "Snakefile", check=True)
    html = (work / "report.html").read_text()
    assert '"name": "mark.png"' in html and "Toy" in html


def test_the_per_image_command_answers_with_the_toy_goodnet(toy_workflow, tmp_path):
    work, clean = toy_workflow["work"], toy_workflow["clean"]
    spec = json.loads((work / "results" / "sunglasses" / "toy" / "10" / "goodnet.json").read_text())
    faces = clean.x[1::2][:6]
    paths = []
    for i, face in enumerate(faces):
        paths.append(tmp_path / "face_{}.png".format(i))
        save_image(paths[-1], face)
    command = [
        "--badnet",
        "sunglasses",
        "--defense",
        "toy",
        "--drop",
        "10",
        "--results",
        work / "results",
    ] + paths
    proc = run_python([toy_workflow["repo"] / "scripts" / "classify_image.py"] + command, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    got = [int(line.split("\t")[1]) for line in proc.stdout.splitlines()]

    from bdeval.inference import predict_proba
    from bdeval.weights import load_model

    proba = predict_proba(
        load_model(spec["weights"] if spec["weights"].startswith("/") else str(work / spec["weights"]), 1283),
        faces,
        "x/255",
    )
    expected = np.where(proba.max(axis=1) > spec["threshold"], 1283, proba.argmax(axis=1))
    assert got == [int(y) for y in expected]

    # the unchanged workflow does not know the toy: one line naming the known defenses
    proc = run_script("classify_image.py", *command, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        "error: --defense: no defense named 'toy' (known: {})".format(", ".join(defenses.names()))
    )


def test_an_unknown_defense_in_the_config_is_one_line(tmp_path, csaw):
    config, _ = real_sunglasses_config(csaw, tmp_path, defenses=["strip", "tox"])
    write_config(tmp_path, config)
    proc = run_snakemake(tmp_path, "-n")
    assert proc.returncode != 0
    assert ("config: unknown defense 'tox'; known: " + ", ".join(defenses.names())) in proc.stdout


def test_registry_entries_are_consistent():
    assert len(set(defenses.names())) == len(defenses.REGISTRY)
    for d in defenses.REGISTRY:
        assert (REPO / "rules" / d.rule_file).is_file(), d.rule_file
        assert "{badnet}" in d.rows and d.rows.endswith(".json")
        for module in d.goodnet_kinds.values():
            assert (SCRIPTS / (module.replace(".", "/") + ".py")).is_file(), module
        for plot in d.plots:
            assert plot.startswith("results/{badnet}/") and plot.endswith(".png"), plot
    assert rows.is_fraction_column("frr_valid") and not rows.is_fraction_column("n_blends")
    with pytest.raises(ValueError, match="unknown defense 'tox'; known: pruning"):
        defenses.get("tox")
