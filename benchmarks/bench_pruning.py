#!/usr/bin/env python
"""Pruning curve on the real sunglasses_bd_net: head-only passes vs full forward passes.

Baseline (measured in the same run): after each pruned conv_3 channel, zero the channel's
kernel and bias and run the whole net on the validation and poisoned images. Head-only (what
prune_badnet.py does): compute pool_3 once, then per step zero pool_3 channels and run only
the layers after pool_3. Both must give the same curve. Prints both times, their ratio and the
peak memory. Images: the shared 60 clean / 60 sunglasses faces, tiled to --n-valid / --n-poisoned.

    .venv/bin/python benchmarks/bench_pruning.py [--n-valid 1200 --n-poisoned 600 --threads 2]
"""

import argparse
import os
import resource
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

import numpy as np  # noqa: E402

from bdeval import NUM_CLASSES_CHALLENGE as N_CLASSES  # noqa: E402
from bdeval import pruning, tfcompat  # noqa: E402
from bdeval.datasets import load_dataset  # noqa: E402
from bdeval.inference import activations, predict_labels  # noqa: E402
from bdeval.weights import load_model  # noqa: E402

CSAW = os.path.join(os.path.dirname(ROOT), "shared", "csaw")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csaw", default=CSAW, help="the shared real data (default ../shared/csaw)")
    parser.add_argument("--n-valid", type=int, default=1200)
    parser.add_argument("--n-poisoned", type=int, default=600)
    parser.add_argument("--steps", type=int, default=60, help="channels to prune (curve: steps + 1 points)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--head-batch-size", type=int, default=1024)
    parser.add_argument("--threads", type=int, default=2)
    return parser.parse_args()


def tile(x, y, n):
    index = np.arange(n) % len(y)
    return x[index], y[index]


def full_curve(model, order, steps, valid_x, valid_y, bd_x, batch_size):
    acc, asr = [], []
    kernel, bias = [w.copy() for w in model.get_layer(pruning.LAYER).get_weights()]
    for k in range(steps + 1):
        model.get_layer(pruning.LAYER).set_weights([kernel, bias])
        pruning.prune_model(model, order[:k])
        acc.append(int(np.sum(predict_labels(model, valid_x, "x/255", batch_size) == valid_y)))
        asr.append(int(np.sum(predict_labels(model, bd_x, "x/255", batch_size) == 0)))
    model.get_layer(pruning.LAYER).set_weights([kernel, bias])
    return acc, asr


def head_curve(model, order, steps, valid_x, valid_y, bd_x, batch_size, head_batch_size):
    valid_p3 = activations(model, pruning.POOL_LAYER, valid_x, "x/255", batch_size)
    bd_p3 = activations(model, pruning.POOL_LAYER, bd_x, "x/255", batch_size)
    head = pruning.Head(model, N_CLASSES, head_batch_size)
    acc, asr = [], []
    for k in range(steps + 1):
        mask = pruning.channel_mask(valid_p3.shape[-1], order[:k])
        acc.append(int(np.sum(head.labels(valid_p3, mask) == valid_y)))
        asr.append(int(np.sum(head.labels(bd_p3, mask) == 0)))
    return acc, asr


def main():
    args = parse_args()
    weights = os.path.join(args.csaw, "models", "sunglasses_bd_weights.h5")
    if not os.path.exists(weights):
        sys.exit("real CSAW data not found at {} (give --csaw)".format(args.csaw))
    tfcompat.configure(1, args.threads)
    clean = load_dataset(os.path.join(args.csaw, "data", "clean_test_subset.h5"), N_CLASSES)
    bd = load_dataset(os.path.join(args.csaw, "data", "sunglasses_poisoned_subset.h5"), N_CLASSES)
    valid_x, valid_y = tile(clean.x, clean.y, args.n_valid)
    bd_x, _ = tile(bd.x, bd.y, args.n_poisoned)
    model = load_model(weights, N_CLASSES)
    order = pruning.pruning_order(
        pruning.mean_channel_activation(activations(model, pruning.POOL_LAYER, clean.x, "x/255"))
    )
    steps = min(args.steps, len(order))
    print(
        "stack: {}; {} validation + {} poisoned images, {} pruning steps, {} threads".format(
            tfcompat.stack_description(), args.n_valid, args.n_poisoned, steps + 1, args.threads
        )
    )

    # warm-up: build both graphs once so that neither timing pays the first-call cost
    head_curve(model, order, 0, valid_x[:8], valid_y[:8], bd_x[:8], args.batch_size, args.head_batch_size)
    full_curve(model, order, 0, valid_x[:8], valid_y[:8], bd_x[:8], args.batch_size)

    start = time.perf_counter()
    head = head_curve(model, order, steps, valid_x, valid_y, bd_x, args.batch_size, args.head_batch_size)
    head_s = time.perf_counter() - start
    start = time.perf_counter()
    full = full_curve(model, order, steps, valid_x, valid_y, bd_x, args.batch_size)
    full_s = time.perf_counter() - start

    same_acc = sum(a == b for a, b in zip(head[0], full[0]))
    same_asr = sum(a == b for a, b in zip(head[1], full[1]))
    print("full forward passes (baseline): {:8.2f} s".format(full_s))
    print("pool_3 once + head-only passes: {:8.2f} s".format(head_s))
    print("speed-up (full / head-only):    {:8.1f}x".format(full_s / head_s))
    print(
        "same curve: validation counts {}/{} steps, ASR counts {}/{} steps".format(
            same_acc, steps + 1, same_asr, steps + 1
        )
    )
    print(
        "validation accuracy (%): {}".format(
            " ".join("{:.0f}".format(100.0 * c / args.n_valid) for c in head[0][::5])
        )
        + " (every 5th step)"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        "peak memory (ru_maxrss): {:.0f} MiB".format(
            peak / 1024.0 if sys.platform != "darwin" else peak / 2.0**20
        )
    )
    return 0 if same_acc == same_asr == steps + 1 else 1


if __name__ == "__main__":
    sys.exit(main())
