#!/usr/bin/env python
"""Neural Cleanse, between the stages: from the screening shards of one badnet, choose the labels
to refine (candidates: smallest screening norms and screening flags; a seeded random reference
sample of other labels) and write them, with their screening triggers as warm starts."""

import argparse
import logging
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bdeval import mad  # noqa: E402
from bdeval.errors import InputError, run_cli  # noqa: E402
from bdeval.neural_cleanse import refine as nc_refine, store as nc_store  # noqa: E402
from bdeval.outputs import write_json  # noqa: E402


def read_screen(paths, n_labels):
    """(results sorted by label, the first shard's meta) of all shards; checks coverage and that
    every shard has the same fingerprint (meta["fingerprint"])."""
    results, metas = [], []
    for path in paths:
        if not os.path.exists(path):
            raise InputError(path, "no such shard file")
        shard, meta = nc_store.load_results(path)
        results += shard
        metas.append(meta)
    labels = sorted(r["label"] for r in results)
    if labels != list(range(n_labels)):
        missing = sorted(set(range(n_labels)) - set(labels))
        raise InputError(
            paths[0],
            "shards cover {} labels, expected 0..{} (missing {})".format(
                len(labels), n_labels - 1, missing[:10]
            ),
        )
    if len({m["fingerprint"] for m in metas}) != 1:
        raise InputError(paths[0], "shards come from different settings, seeds or files")
    return sorted(results, key=lambda r: r["label"]), metas[0]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("shards", nargs="+", help="screening shard .npz files of nc_scan_shard.py")
    parser.add_argument("--n-labels", type=int, required=True, help="labels 0..N-1 the shards cover")
    parser.add_argument("--candidates", type=int, required=True, help="smallest screening norms refined")
    parser.add_argument("--reference", type=int, required=True, help="random other labels refined")
    parser.add_argument("--threshold", type=float, default=mad.DEFAULT_THRESHOLD)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out-plan", required=True, help="JSON: labels to refine")
    parser.add_argument("--out-starts", required=True, help=".npz: their screening triggers")
    args = parser.parse_args(argv)
    results, meta = read_screen(args.shards, args.n_labels)
    fprint = meta["fingerprint"]
    norms = np.array([r["l1_norm"] for r in results])
    plan = nc_refine.select(
        range(args.n_labels), norms, args.candidates, args.reference, args.seed, args.threshold
    )
    plan["labels"] = sorted(set(plan["candidates"]) | set(plan["reference"]))
    plan["screen_fingerprint"] = fprint
    chosen = set(plan["labels"])
    nc_store.save_results(
        args.out_starts, [r for r in results if r["label"] in chosen], {"screen_fingerprint": fprint}
    )
    write_json(args.out_plan, plan)
    logging.info(
        "refining %d labels: candidates %s; reference sample of %d",
        len(plan["labels"]),
        plan["candidates"] if len(plan["candidates"]) <= 40 else "all",
        len(plan["reference"]),
    )
    return 0


if __name__ == "__main__":
    run_cli(main)
