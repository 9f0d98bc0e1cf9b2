#!/usr/bin/env python
"""Neural Cleanse cost: per-label time of the default schedule versus `original` (the baseline,
measured in the same run) on a sample of labels of a real 1283-class badnet, the full-scan
time (estimated from the sample, or measured with --full), and peak memory.

    .venv/bin/python benchmarks/bench_neural_cleanse.py [--labels 64] [--original-labels 4] [--full]

Uses ../shared/csaw (sunglasses_bd_weights.h5; the first 30 faces of clean_test_subset.h5 as the
clean images, since no clean validation subset exists).
"""

import argparse
import os
import resource
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "scripts"))

from bdeval import tfcompat  # noqa: E402
from bdeval.datasets import load_dataset  # noqa: E402
from bdeval.inference import scale  # noqa: E402
from bdeval.neural_cleanse import core as nc_core  # noqa: E402

CSAW = os.path.join(HERE, "..", "..", "shared", "csaw")
N_CLASSES = 1283


def timed_scan(loss, x, y, labels, schedule, seed=1):
    settings = nc_core.settings_for(schedule)
    began = time.time()
    results = nc_core.reverse_engineer(loss, x, y, labels, settings, seed)
    return time.time() - began, results


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--labels", type=int, default=64, help="labels timed with the default schedule")
    parser.add_argument("--original-labels", type=int, default=4, help="labels timed with `original`")
    parser.add_argument("--full", action="store_true", help="also measure a full 1283-label scan")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    weights = os.path.join(CSAW, "models", "sunglasses_bd_weights.h5")
    if not os.path.exists(weights):
        print("skipped: real CSAW data not found at {}".format(os.path.abspath(CSAW)))
        return 0
    tfcompat.configure(1, args.threads)
    from bdeval.neural_cleanse.tf_loss import TriggerLoss
    from bdeval.weights import load_model

    clean = load_dataset(os.path.join(CSAW, "data", "clean_test_subset.h5"), N_CLASSES)
    x, y = scale(clean.x[:30], "x/255"), clean.y[:30]
    loss = TriggerLoss(load_model(weights, N_CLASSES), 1.0)
    timed_scan(loss, x, y, [1], "default")  # warm-up: graph building / tracing
    sample = list(range(args.labels))
    t_default, res_default = timed_scan(loss, x, y, sample, "default")
    t_orig, res_orig = timed_scan(loss, x, y, sample[: args.original_labels], "original")
    per_default = t_default / len(sample)
    per_orig = t_orig / args.original_labels
    print("stack: {}; threads {}; {} clean images".format(tfcompat.stack_description(), args.threads, len(y)))
    print(
        "default : {:.3f} s per label ({} labels, {:.0f} optimizer steps per label on average)".format(
            per_default, len(sample), sum(r["steps"] for r in res_default) / float(len(sample))
        )
    )
    print(
        "original: {:.3f} s per label ({} labels, {:.0f} optimizer steps per label on average)".format(
            per_orig, args.original_labels, sum(r["steps"] for r in res_orig) / float(args.original_labels)
        )
    )
    print("speed-up of default over original: {:.1f}x".format(per_orig / per_default))
    print(
        "label 0 (the sunglasses target) L1: default {:.1f}, original {:.1f}".format(
            res_default[0]["l1_norm"], res_orig[0]["l1_norm"]
        )
    )
    print(
        "full 1283-label scan, estimated: default {:.1f} min, original {:.1f} h".format(
            per_default * N_CLASSES / 60, per_orig * N_CLASSES / 3600
        )
    )
    if args.full:
        chunk = nc_core.label_batch_size(nc_core.settings_for("default"), 4096, N_CLASSES)
        t_full = sum(
            timed_scan(loss, x, y, list(range(a, min(a + chunk, N_CLASSES))), "default")[0]
            for a in range(0, N_CLASSES, chunk)
        )
        print("full 1283-label scan, measured: default {:.1f} min".format(t_full / 60))
    print("peak memory: {:.0f} MB".format(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
