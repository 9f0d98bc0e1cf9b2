#!/usr/bin/env python
"""Neural Cleanse scan of one label range of a badnet: reverse-engineer a trigger per label.

Labels are optimized in batches (one tensor of masks and patterns per batch). Each finished
label is written to --progress-dir at once, so a killed job resumes where it stopped: batches
whose labels are all saved are skipped, a partly saved batch is recomputed as a whole (same
batch, same seed: same results).
"""

import argparse
import json
import logging
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bdeval import tfcompat  # noqa: E402
from bdeval.cli import add_badnet_args  # noqa: E402
from bdeval.datasets import load_dataset  # noqa: E402
from bdeval.errors import InputError, run_cli  # noqa: E402
from bdeval.inference import scale  # noqa: E402
from bdeval.neural_cleanse import augment, core as nc_core, scan as nc_scan, store as nc_store  # noqa: E402


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__)
    add_badnet_args(parser)
    parser.add_argument("--first", type=int, required=True, help="first label of the shard")
    parser.add_argument("--last", type=int, required=True, help="last label of the shard (inclusive)")
    nc_scan.add_job_args(parser, "default", nc_core.SCHEDULES)
    parser.add_argument("--out", required=True, help="the shard's results (.npz)")
    return parser.parse_args(argv)


def check_args(args):
    if not 0 <= args.first <= args.last < args.n_classes:
        raise InputError(
            "--first/--last",
            "label range {}-{} is not within [0, {}]".format(args.first, args.last, args.n_classes - 1),
        )
    try:
        overrides = json.loads(args.settings)
        settings = nc_core.settings_for(args.schedule, overrides)
    except ValueError as err:
        raise InputError("--settings", str(err)) from None
    return settings


def main(argv=None):
    args = parse_args(argv)
    settings = check_args(args)
    tfcompat.configure(args.seed, args.threads)
    from bdeval.neural_cleanse.tf_loss import TriggerLoss
    from bdeval.weights import load_model

    valid = load_dataset(args.clean_validation, args.n_classes)
    model = load_model(args.weights, args.n_classes)
    fprint = nc_store.fingerprint(
        settings, args.seed, args.weights, args.clean_validation, args.scaling, args.n_classes
    )
    labels = list(range(args.first, args.last + 1))
    label_batch = nc_core.label_batch_size(settings, args.memory_mb, len(labels))
    n_pool = nc_core.pool_size(settings, valid.y)
    if n_pool < 1:
        raise InputError(args.clean_validation, "no clean image of another class to optimize on")
    logging.info(
        "%s: labels %d-%d, schedule %s, %d images per label (%s), %d labels per batch",
        args.badnet,
        args.first,
        args.last,
        args.schedule,
        n_pool,
        augment.describe(settings),
        label_batch,
    )
    pattern_scale = 255.0 if args.scaling == "raw" else 1.0
    loss = TriggerLoss(model, pattern_scale)
    began = time.time()
    oom = (tfcompat.tf.errors.ResourceExhaustedError, MemoryError)
    problem = nc_scan.Problem(loss, scale(valid.x, args.scaling), valid.y, settings, label_batch, oom)
    results = nc_scan.scan(problem, labels, args.seed, args.progress_dir, fprint)
    stack = tfcompat.stack_description()
    extra = dict(n_classes=args.n_classes, images_per_label=n_pool)
    nc_scan.save_job(args, results, settings, fprint, began, stack, **extra)
    return 0


if __name__ == "__main__":
    run_cli(main)
