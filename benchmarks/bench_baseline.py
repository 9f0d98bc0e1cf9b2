#!/usr/bin/env python
"""Baseline evaluation throughput (images/s) of the real sunglasses net, with peak memory.

Baseline measured in the same run: the one-image-at-a-time `model.predict` loop of typical
challenge notebooks. Ours: bdeval.inference.predict_labels (bounded batches, predict_on_batch).
Usage: python benchmarks/bench_baseline.py [--images 6000] [--threads 2]
"""

import argparse
import os
import resource
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "scripts"))

import numpy as np  # noqa: E402

from bdeval import tfcompat  # noqa: E402
from bdeval.datasets import load_dataset  # noqa: E402
from bdeval.inference import predict_labels, scale  # noqa: E402
from bdeval.weights import load_model  # noqa: E402

CSAW = os.path.join(os.path.dirname(REPO), "shared", "csaw")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=6000)
    parser.add_argument("--loop-images", type=int, default=200, help="images for the slow baseline")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    tfcompat.configure(0, args.threads)
    model = load_model(os.path.join(CSAW, "models", "sunglasses_bd_weights.h5"), 1283)
    clean = load_dataset(os.path.join(CSAW, "data", "clean_test_subset.h5"), 1283)
    reps = -(-args.images // len(clean.y))
    x = np.concatenate([clean.x] * reps)[: args.images]
    y = np.concatenate([clean.y] * reps)[: args.images]

    predict_labels(model, x[:256], "x/255", args.batch_size)  # warm-up
    start = time.perf_counter()
    ours = predict_labels(model, x, "x/255", args.batch_size)
    ours_rate = len(x) / (time.perf_counter() - start)

    loop = x[: args.loop_images]
    model.predict(scale(loop[:1], "x/255"), verbose=0)  # warm-up
    start = time.perf_counter()
    slow = np.array([np.argmax(model.predict(scale(img[None], "x/255"), verbose=0)) for img in loop])
    loop_rate = len(loop) / (time.perf_counter() - start)

    assert np.array_equal(slow, ours[: len(slow)]), "batched and per-image answers differ"
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print("stack: {}, threads {}".format(tfcompat.stack_description(), args.threads))
    print("clean accuracy on the tiled subset: {:.2f} %".format(100 * float(np.mean(ours == y))))
    print("baseline (one image per predict): {:9.1f} images/s".format(loop_rate))
    print("bdeval batched (batch {}):       {:9.1f} images/s".format(args.batch_size, ours_rate))
    print("ratio batched / baseline: {:.1f}x".format(ours_rate / loop_rate))
    print("peak memory (max RSS): {:.0f} MiB".format(peak_mib))


if __name__ == "__main__":
    main()
