# Config validation, helpers and wildcard constraints shared by all rules.
import json
import os
import shlex
import sys

from snakemake.utils import validate

validate(config, schema="../schemas/config.schema.yaml")

SCRIPTS = os.path.join(workflow.basedir, "scripts")
# Natively, run scripts with Snakemake's own interpreter (no venv activation needed);
# under --use-apptainer / --use-conda, with the `python` of the image or environment.
PYTHON = config["python"] or ("python" if workflow.deployment_settings.deployment_method else sys.executable)
sys.path.insert(0, SCRIPTS)
from bdeval import defenses  # noqa: E402  (the defense registry)

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
                raise ValueError(
                    "config: badnet {}: target {} of '{}' is not below n_classes {}".format(
                        name, p["target"], p["trigger"], badnet["n_classes"]
                    )
                )
    for name in config["defenses"]:
        if name not in defenses.names():
            raise ValueError(
                "config: unknown defense '{}'; known: {}".format(name, ", ".join(defenses.names()))
            )
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
        "--badnet",
        badnet["name"],
        "--weights",
        badnet["weights"],
        "--n-classes",
        str(badnet["n_classes"]),
        "--scaling",
        badnet["scaling"],
        "--clean-validation",
        badnet["clean_validation"],
        "--clean-test",
        badnet["clean_test"],
    ]
    for p in badnet["poisoned"]:
        args += ["--poisoned", "{}:{}:{}".format(p["trigger"], p["target"], p["file"])]
    return " ".join(shlex.quote(a) for a in args)


from bdeval.drops import drop_label  # noqa: E402  (a drop%'s folder and wildcard name)

# --- what the run makes: result rows, figures and tables of the configured defenses --------


def configured_defenses():
    """Registry entries of the defenses named in config, in registry order."""
    return [d for d in defenses.REGISTRY if d.name in config["defenses"]]


def defense_rule_files():
    """Rule files of every registered defense (the Snakefile includes them all)."""
    return [os.path.join("rules", f) for f in defenses.rule_files()]


def row_files(badnet=None):
    """The per-job result-row files of one badnet (or all): the baseline's and each defense's."""
    names = [badnet] if badnet else list(BADNETS)
    patterns = [defenses.BASELINE_ROWS] + [d.rows for d in configured_defenses()]
    files = []
    for pattern in patterns:
        for name in names:
            if "{drop}" in pattern:
                files += [pattern.format(badnet=name, drop=drop_label(d)) for d in config["drops"]]
            else:
                files.append(pattern.format(badnet=name))
    return files


NC_SUMMARY = "results/{badnet}/neural_cleanse/nc.json"


def nc_summaries(badnet=None):
    """Neural Cleanse's nc.json of one badnet (or all) when it is configured, else []."""
    if "neural_cleanse" not in config["defenses"]:
        return []
    return [NC_SUMMARY.format(badnet=name) for name in ([badnet] if badnet else list(BADNETS))]


def nc_norms():
    """Neural Cleanse's norms.csv of every badnet, as nc_summaries()."""
    return [os.path.join(os.path.dirname(path), "norms.csv") for path in nc_summaries()]


def all_targets(badnet=None):
    """Everything the default run (or one badnet's target rule) makes: the summary tables, the
    overview figure (workflow-wide only), the configured defenses' figures and their
    workflow-wide tables."""
    names = [badnet] if badnet else list(BADNETS)
    base = os.path.join("results", badnet) if badnet else "results"
    targets = [os.path.join(base, f) for f in ("summary.csv", "summary_wide.csv", "summary.md")]
    if not badnet:
        targets.append(os.path.join("results", "overview.png"))
    for d in configured_defenses():
        targets += [plot.format(badnet=name) for plot in d.plots for name in names]
        if not badnet:
            targets += list(d.tables)
    return targets


# --- the demo benchmark and the real challenge files --------------------------------------


def demo_poison_args(poison):
    return " ".join("--poison {}:{}".format(p["trigger"], p["target"]) for p in poison)


def demo_poison_pairs():
    pairs = {(p["trigger"], p["target"]) for m in DEMO_MODELS.values() for p in m["poison"]}
    return sorted(pairs)


def optional_arg(flag, value):
    """'FLAG VALUE' for a configured value, '' for null (the script's own default)."""
    return "" if value is None else "{} {}".format(flag, shlex.quote(str(value)))


def csaw_local_arg():
    local = config["csaw"]["local_dir"]
    return "--local-dir {}".format(shlex.quote(local)) if local else ""
