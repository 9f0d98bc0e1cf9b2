#!/usr/bin/env python
"""Neural Cleanse refinement, one part of one badnet: the labels nc_select.py chose (every
`--parts`-th from position `--part`), re-optimized with the careful schedule from their screening
trigger; each candidate `--restarts` times from different seeded random starts (its result: the
run with the median norm); then each refined trigger's attack success on the clean TEST images
(held out from the optimization). Resumable label by label and restart by restart, as the scan."""

import argparse
import json
import logging
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bdeval import cli, tfcompat  # noqa: E402
from bdeval.cli import add_badnet_args  # noqa: E402
from bdeval.datasets import load_dataset  # noqa: E402
from bdeval.errors import InputError, run_cli  # noqa: E402
from bdeval.inference import scale  # noqa: E402
from bdeval.neural_cleanse import augment, core as nc_core, refine as nc_refine, scan as nc_scan  # noqa: E402
from bdeval.neural_cleanse import store as nc_store  # noqa: E402
from bdeval.outputs import read_json  # noqa: E402


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__)
    add_badnet_args(parser)
    parser.add_argument("--plan", required=True, help="refine.json of nc_select.py")
    parser.add_argument("--starts", required=True, help="refine_starts.npz of nc_select.py")
    parser.add_argument("--part", type=int, required=True, help="this job's part, 0..parts-1")
    parser.add_argument("--parts", type=int, required=True, help="number of refinement jobs")
    nc_scan.add_job_args(parser, "refine", nc_core.SCHEDULES)
    parser.add_argument(
        "--cold-start",
        action="store_true",
        help="start from the seeded random trigger, not the screening one (no winner's curse)",
    )
    parser.add_argument(
        "--restarts",
        type=cli.positive(int),
        default=1,
        help="optimizations of each CANDIDATE from differently seeded random starts "
        "(seeds SEED..SEED+K-1); its norm is their median",
    )
    parser.add_argument("--out", required=True, help="this part's refined results (.npz)")
    return parser.parse_args(argv)


def read_plan(args):
    if not 0 <= args.part < args.parts:
        raise InputError("--part", "{} is not within [0, {}]".format(args.part, args.parts - 1))
    try:
        settings = nc_core.settings_for(args.schedule, json.loads(args.settings))
    except ValueError as err:
        raise InputError("--settings", str(err)) from None
    for path in (args.plan, args.starts):
        if not os.path.exists(path):
            raise InputError(path, "no such file (run nc_select.py first)")
    plan = read_json(args.plan)
    starts, meta = nc_store.load_results(args.starts)
    if meta.get("screen_fingerprint") != plan.get("screen_fingerprint"):
        raise InputError(args.starts, "does not belong to {} (rerun nc_select.py)".format(args.plan))
    labels = plan["labels"][args.part :: args.parts]
    return settings, plan, labels, {r["label"]: (r["mask"], r["pattern"]) for r in starts}


def test_attack_success(model, result, test, scaling, batch_size):
    """Fraction of clean test images (of other classes) the trigger sends to its label."""
    from bdeval.inference import predict_labels
    from bdeval.neural_cleanse.filter import stamp

    others = test.x[test.y != result["label"]]
    if len(others) == 0:
        return float("nan")
    stamped = stamp(others, result["mask"], result["pattern"])
    return float(np.mean(predict_labels(model, stamped, scaling, batch_size) == result["label"]))


def restart_words(result):
    norms = result.get("restart_l1")
    return (
        " (median of {} starts: {})".format(len(norms), ", ".join("{:.1f}".format(v) for v in norms))
        if norms
        else ""
    )


def main(argv=None):
    args = parse_args(argv)
    settings, plan, labels, plan_starts = read_plan(args)
    starts = None if args.cold_start else plan_starts
    tfcompat.configure(args.seed, args.threads)
    from bdeval.neural_cleanse.tf_loss import TriggerLoss
    from bdeval.weights import load_model

    valid = load_dataset(args.clean_validation, args.n_classes)
    test = load_dataset(args.clean_test, args.n_classes)
    model = load_model(args.weights, args.n_classes)
    fprint = nc_store.fingerprint(
        dict(settings, screen=plan["screen_fingerprint"], cold=args.cold_start),
        args.seed,
        args.weights,
        args.clean_validation,
        args.scaling,
        args.n_classes,
    )
    results = []
    began = time.time()
    if labels:
        label_batch = nc_core.label_batch_size(settings, args.memory_mb, len(labels))
        logging.info(
            "%s: refining %d labels (part %d of %d), schedule %s, %d images per label (%s), "
            "%d labels per batch",
            args.badnet,
            len(labels),
            args.part,
            args.parts,
            args.schedule,
            nc_core.pool_size(settings, valid.y),
            augment.describe(settings),
            label_batch,
        )
        loss = TriggerLoss(model, 255.0 if args.scaling == "raw" else 1.0)
        x_valid = scale(valid.x, args.scaling)
        oom = (tfcompat.tf.errors.ResourceExhaustedError, MemoryError)
        problem = nc_scan.Problem(loss, x_valid, valid.y, settings, label_batch, oom)
        first = nc_scan.scan(problem, labels, args.seed, args.progress_dir, fprint, starts=starts)
        runs = {r["label"]: [r] for r in first}
        # restarts counter the selection of lucky small norms: only a selective plan's candidates
        candidates = [] if plan["all_labels"] else [y for y in labels if y in set(plan["candidates"])]
        for k in range(1, args.restarts if candidates else 1):
            logging.info(
                "%s: restart %d of %d of the %d candidates (seed %d, random start)",
                args.badnet,
                k + 1,
                args.restarts,
                len(candidates),
                args.seed + k,
            )
            fprint_k = nc_store.fingerprint(
                dict(settings, screen=plan["screen_fingerprint"], cold=True),
                args.seed + k,
                args.weights,
                args.clean_validation,
                args.scaling,
                args.n_classes,
            )
            progress_k = os.path.join(args.progress_dir, "restart_{}".format(k))
            for r in nc_scan.scan(problem, candidates, args.seed + k, progress_k, fprint_k):
                runs[r["label"]].append(r)
        results = [nc_refine.combine_restarts(runs[y]) if y in candidates else runs[y][0] for y in labels]
        for r in results:
            r["test_attack_success"] = test_attack_success(model, r, test, args.scaling, args.batch_size)
            logging.info(
                "label %d: refined L1 %.1f%s (screening %.1f), attack success on clean test %.2f",
                r["label"],
                r["l1_norm"],
                restart_words(r),
                float(np.sum(plan_starts[r["label"]][0])),
                r["test_attack_success"],
            )
    stack = tfcompat.stack_description()
    extra = dict(restarts=args.restarts, part=args.part, parts=args.parts)
    nc_scan.save_job(args, results, settings, fprint, began, stack, "refined labels", **extra)
    return 0


if __name__ == "__main__":
    run_cli(main)
