#!/usr/bin/env python
"""Neural Cleanse on the five real challenge nets, all 1283 labels, through the workflow itself:
the verdict per net (flagged labels, undecided ones, each known target's index and rank) and the
time of the whole scan per net (screening + refinement), from the jobs' benchmark files.

    .venv/bin/python benchmarks/bench_nc_five_nets.py [--faces 60|30] [--nets lab3 ...] [--cores 2]

--faces 60: the 60 shared clean faces are the images the triggers are reversed on (and the
attack success of the reversed triggers is measured on them too); --faces 30: the CI split's 30
validation faces (test: the other 30). The baseline the time is measured against is the screening
alone (what the workflow did before refinement), in the same run. Outputs go under
.bench/nc_five_nets_<faces>/ (resumable: a rerun reuses finished jobs). About 12 min per net on
2 CPU cores.
"""

import argparse
import csv
import glob
import os
import subprocess
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED = os.path.abspath(os.path.join(ROOT, "..", "shared"))
NETS = ["sunglasses", "anonymous_1", "anonymous_2", "multi_trigger_multi_target", "lab3"]


def config_for(faces, nets, workdir):
    with open(os.path.join(HERE, "nc_five_nets.yaml")) as handle:
        text = handle.read().replace("../shared/", SHARED + "/")
    config = yaml.safe_load(text)
    config["badnets"] = [b for b in config["badnets"] if b["name"] in nets]
    if faces == 30:
        for badnet in config["badnets"]:
            badnet["clean_validation"] = "results/csaw_ci/clean_validation.h5"
            if badnet["name"] != "lab3":
                badnet["clean_test"] = "results/csaw_ci/clean_test.h5"
    path = os.path.join(workdir, "config.yaml")
    with open(path, "w") as handle:
        yaml.safe_dump(config, handle, sort_keys=False)
    return path


def seconds(workdir, badnet, pattern):
    total = 0.0
    for path in glob.glob(os.path.join(workdir, "results", "benchmarks", badnet, "neural_cleanse", pattern)):
        with open(path) as handle:
            total += float(list(csv.DictReader(handle, delimiter="\t"))[-1]["s"])
    return total


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--faces", type=int, choices=[60, 30], default=60)
    parser.add_argument("--nets", nargs="+", choices=NETS, default=NETS)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--tag", default="", help="suffix of the work folder (keeps another run's results)")
    args = parser.parse_args()
    if not os.path.isdir(os.path.join(SHARED, "csaw")):
        print("skipped: real CSAW data not found at {}".format(os.path.join(SHARED, "csaw")))
        return 0
    workdir = os.path.join(ROOT, ".bench", "nc_five_nets_{}{}".format(args.faces, args.tag))
    os.makedirs(workdir, exist_ok=True)
    config = config_for(args.faces, args.nets, workdir)
    snakemake = os.path.join(os.path.dirname(sys.executable), "snakemake")
    cmd = [
        snakemake,
        "results/mad.csv",
        "-s",
        os.path.join(ROOT, "Snakefile"),
        "--directory",
        workdir,
        "--configfile",
        config,
        "--cores",
        str(args.cores),
        "--quiet",
        "rules",
    ]
    print("running: " + " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)
    with open(os.path.join(workdir, "results", "mad.csv")) as handle:
        rows = list(csv.DictReader(handle))
    print(
        "\n{} clean faces; threshold 2; times on {} cores (sum of the jobs' wall times)".format(
            args.faces, args.cores
        )
    )
    for row in rows:
        name = row["badnet"]
        screen = seconds(workdir, name, "scan_*.tsv")
        refine = seconds(workdir, name, "refine_*.tsv") + seconds(workdir, name, "select.tsv")
        print(
            "\n{}: flagged {} (indices {}); weak {}; undecided {}; targets {}: index {}, rank {}".format(
                name,
                row["flagged"],
                row["anomaly_indices"],
                row["weak"],
                row["undecided"],
                row["known_targets"],
                row["target_indices"],
                row["target_ranks"],
            )
        )
        print(
            "  time: screening {:.1f} min (the baseline) + refinement {:.1f} min = {:.1f} min; "
            "{:.2f}x the screening alone".format(
                screen / 60,
                refine / 60,
                (screen + refine) / 60,
                (screen + refine) / screen if screen else float("nan"),
            )
        )
        print("  verdict: " + row["verdict"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
