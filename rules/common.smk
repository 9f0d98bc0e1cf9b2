# Config validation, helpers and wildcard constraints shared by all rules.
import json
import os
import sys

from snakemake.utils import validate


validate(config, schema="../schemas/config.schema.yaml")

SCRIPTS = os.path.join(workflow.basedir, "scripts")
# Natively, run scripts with Snakemake's own interpreter (no venv activation needed);
# under --use-apptainer / --use-conda, with the `python` of the image or environment.
PYTHON = config["python"] or (
    "python" if workflow.deployment_settings.deployment_method else sys.executable
)
BADNETS = {b["name"]: b for b in config["badnets"]}
DEMO_MODELS = {m["name"]: m for m in config["demo"]["models"]}


def _check_config():
    if len(BADNETS) != len(config["badnets"]):
        raise ValueError("config: badnet names must be unique")
    for name, badnet in BADNETS.items():
        triggers = [p["trigger"] for p in badnet["poisoned"]]
        if len(set(triggers)) != len(triggers):
            raise ValueError("config: badnet {}: poisoned trigger names must be unique".format(name))
        for p in badnet["poisoned"]:
            if p["target"] >= badnet["n_classes"]:
                raise ValueError("config: badnet {}: target {} of '{}' is not below n_classes {}".format(
                    name, p["target"], p["trigger"], badnet["n_classes"]))
    if "demo" in BADNETS:
        raise ValueError("config: 'demo' is reserved for the demo benchmark's folder")


_check_config()


def log_path(name):
    return os.path.join("results", "logs", "{}.log".format(name))


def bench_path(name):
    return os.path.join("results", "benchmarks", "{}.tsv".format(name))


# --- inputs and arguments of one badnet ---------------------------------------------------


def badnet_inputs(wildcards):
    """Files a badnet's evaluation reads: weights, clean sets, poisoned sets."""
    badnet = BADNETS[wildcards.badnet]
    files = {
        "weights": badnet["weights"],
        "clean_validation": badnet["clean_validation"],
        "clean_test": badnet["clean_test"],
    }
    files.update({"poisoned_{}".format(p["trigger"]): p["file"] for p in badnet["poisoned"]})
    return files


def badnet_args(wildcards):
    """Command-line arguments that describe a badnet to every evaluation script."""
    badnet = BADNETS[wildcards.badnet]
    args = [
        "--badnet", badnet["name"],
        "--weights", badnet["weights"],
        "--n-classes", str(badnet["n_classes"]),
        "--scaling", badnet["scaling"],
        "--clean-validation", badnet["clean_validation"],
        "--clean-test", badnet["clean_test"],
    ]
    for p in badnet["poisoned"]:
        args += ["--poisoned", "{}:{}:{}".format(p["trigger"], p["target"], p["file"])]
    return " ".join("'{}'".format(a) for a in args)


# --- result rows: each defense registers the per-job file it writes ------------------------

ROW_FILES = []  # (defense, path pattern with {badnet} and, per drop%, {drop})


def register_rows(defense, pattern):
    """Called by each defense's .smk; the summary picks up its rows without edits."""
    if defense == "none" or defense in config["defenses"]:
        ROW_FILES.append((defense, pattern))


def drop_label(drop):
    return "{:g}".format(drop)


def row_files(badnet=None):
    names = [badnet] if badnet else list(BADNETS)
    files = []
    for defense, pattern in ROW_FILES:
        for name in names:
            if "{drop}" in pattern:
                files += [pattern.format(badnet=name, drop=drop_label(d)) for d in config["drops"]]
            else:
                files.append(pattern.format(badnet=name))
    return files


# --- the demo benchmark and the real challenge files --------------------------------------


def demo_poison_args(poison):
    return " ".join("--poison {}:{}".format(p["trigger"], p["target"]) for p in poison)


def demo_poison_pairs():
    pairs = {(p["trigger"], p["target"]) for m in DEMO_MODELS.values() for p in m["poison"]}
    return sorted(pairs)


def csaw_local_arg():
    local = config["csaw"]["local_dir"]
    return "--local-dir '{}'".format(local) if local else ""


# --- pruning --------------------------------------------------------------------------------


def pruning_drop_files(name):
    """The pruning job's per-drop% outputs, {badnet} left as a wildcard."""
    return ["results/{{badnet}}/pruning/{}/{}".format(drop_label(d), name) for d in config["drops"]]


def pruning_plot_files(wildcards):
    base = os.path.join("results", wildcards.badnet, "pruning", "plots")
    return [os.path.join(base, "pruning_curve.png"), os.path.join(base, "activation_maps.png")]


# --- Neural Cleanse ------------------------------------------------------------------------


def nc_scanned_labels(badnet):
    """Labels 0..n-1 that the scan covers: all, unless neural_cleanse.max_labels caps them."""
    n, cap = BADNETS[badnet]["n_classes"], config["neural_cleanse"]["max_labels"]
    return min(n, cap) if cap else n


def nc_shards(badnet):
    n, size = nc_scanned_labels(badnet), config["neural_cleanse"]["shard_size"]
    return ["{}-{}".format(a, min(a + size, n) - 1) for a in range(0, n, size)]


def nc_screen_shards(wildcards):
    return expand("results/{badnet}/neural_cleanse/shards/{shard}.npz", badnet=wildcards.badnet,
                  shard=nc_shards(wildcards.badnet))


def nc_refine_parts(wildcards):
    """The refinement jobs' outputs; none when refinement is off."""
    refine = config["neural_cleanse"]["refine"]
    if not refine["enabled"]:
        return []
    return expand("results/{badnet}/neural_cleanse/refine/part_{part}.npz", badnet=wildcards.badnet,
                  part=range(refine["jobs"]))


def nc_refine_plan(wildcards):
    if not config["neural_cleanse"]["refine"]["enabled"]:
        return []
    return "results/{}/neural_cleanse/refine/plan.json".format(wildcards.badnet)


def nc_trigger_rows_args(wildcards):
    """--trigger-rows of the poisoned sets whose trigger region (image rows) is known."""
    return " ".join("--trigger-rows '{}:{}:{}'".format(p["trigger"], p["rows"][0], p["rows"][1])
                    for p in BADNETS[wildcards.badnet]["poisoned"] if p.get("rows"))


def neural_cleanse_targets():
    """Extra targets of the default target: the MAD table when neural_cleanse is a configured defense."""
    return ["results/mad.csv"] if "neural_cleanse" in config["defenses"] else []
