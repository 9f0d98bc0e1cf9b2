#!/usr/bin/env python
"""STRIP entropies: vectorized over inputs x blends (bdeval.strip) vs the one-image-at-a-time loop.

Real sunglasses BadNet and real faces from ../shared/csaw (clean subset as blend pool, half
clean / half sunglasses-poisoned inputs). Baselines, measured in the same run on the same
partners:
  loop-predict        the original STRIP code and common toolkits: for each input, build its n
                      blends and call model.predict on them;
  loop-predict_on_batch  the same loop with the lighter predict_on_batch call;
  loop-same-forward   the same loop with the forward function the vectorized path uses
                      (tfcompat.batch_predictor): isolates the gain of batching inputs x blends.
Prints forward passes per second, the ratios, the largest entropy difference, and peak memory.

    .venv/bin/python benchmarks/bench_strip.py [--n-inputs 40 --n-blends 50 --threads 2]
"""

import argparse
import json
import os
import resource
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "scripts"))

import numpy as np  # noqa: E402

from bdeval import strip, strip_model, tfcompat  # noqa: E402
from bdeval.datasets import load_dataset  # noqa: E402
from bdeval.inference import scale  # noqa: E402
from bdeval.weights import load_model  # noqa: E402

CSAW = os.path.join(os.path.dirname(REPO), "shared", "csaw")


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--csaw", default=CSAW, help="real CSAW material (default ../shared/csaw)")
    parser.add_argument("--n-inputs", type=int, default=60, help="inputs (half clean, half poisoned), <= 120")
    parser.add_argument("--n-blends", type=int, default=50, help="blends per input (<= 60: the clean pool)")
    parser.add_argument("--batch-size", type=int, default=100, help="vectorized forward batch")
    parser.add_argument("--blend", default="sum", choices=strip.BLEND_RULES)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="timed repeats per path (best kept)")
    return parser.parse_args()


def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def loop(model, x, pool, partners, rule, call):
    """One input at a time: its n blends in one call, as in the original STRIP code."""
    if call == "predict":
        forward = lambda b: model.predict(b, verbose=0)  # noqa: E731
    elif call == "predict_on_batch":
        forward = model.predict_on_batch
    else:
        forward = call
    out = np.empty(len(x))
    for i in range(len(x)):
        blends = scale(strip.blend(x[i : i + 1], pool[partners[i]], rule), "x/255")
        out[i] = strip.entropy(np.asarray(forward(blends))).mean()
    return out


def timed(fn):
    started = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - started


def main():
    args = parse_args()
    tfcompat.configure(1, args.threads)
    clean = load_dataset(os.path.join(args.csaw, "data", "clean_test_subset.h5"), 1283)
    poisoned = load_dataset(os.path.join(args.csaw, "data", "sunglasses_poisoned_subset.h5"), 1283)
    model = load_model(os.path.join(args.csaw, "models", "sunglasses_bd_weights.h5"), 1283)
    half = args.n_inputs // 2
    x = np.concatenate([clean.x[: args.n_inputs - half], poisoned.x[:half]])
    pool = clean.x
    partners = strip.partner_indices(x, len(pool), args.n_blends, 1)
    passes = len(x) * args.n_blends
    print(
        "{} inputs x {} blends = {} forward passes, blend '{}', {} threads, {}".format(
            len(x), args.n_blends, passes, args.blend, args.threads, tfcompat.stack_description()
        )
    )
    base_mib = peak_mib()

    same = tfcompat.batch_predictor(model)
    # warm-up of every path (graph building is not what we measure)
    strip_model.strip_entropies(model, x, pool, args.n_blends, "x/255", args.blend, 0.5, 1, args.batch_size)
    vec_mib = peak_mib()  # before any loop ran: the vectorized path's peak
    for call in ("predict", "predict_on_batch", same):
        loop(model, x[:2], pool, partners, args.blend, call)

    paths = [
        (
            "vectorized",
            lambda: strip_model.strip_entropies(
                model, x, pool, args.n_blends, "x/255", args.blend, 0.5, 1, args.batch_size
            ),
        )
    ]
    for name, call in (
        ("loop-predict", "predict"),
        ("loop-predict_on_batch", "predict_on_batch"),
        ("loop-same-forward", same),
    ):
        paths.append((name, lambda call=call: loop(model, x, pool, partners, args.blend, call)))
    results, values = {}, {}
    for _ in range(args.repeat):  # interleaved repeats, best time kept (the machine is shared)
        for name, fn in paths:
            values[name], seconds = timed(fn)
            results[name] = min(seconds, results.get(name, float("inf")))
    diff = max(float(np.abs(values["vectorized"] - v).max()) for v in values.values())
    for name, seconds in results.items():
        print("{:24s} {:7.2f} s  {:7.0f} forward passes/s".format(name, seconds, passes / seconds))
    ratios = {
        name: seconds / results["vectorized"] for name, seconds in results.items() if name != "vectorized"
    }
    print("speed-up of vectorized: " + ", ".join("x{:.2f} vs {}".format(r, n) for n, r in ratios.items()))
    print("largest entropy difference between the paths: {:.2e} bits".format(diff))
    print(
        "peak memory (ru_maxrss): {:.0f} MiB after loading, {:.0f} MiB after the vectorized path, {:.0f} MiB at end;"
        " one blend batch = {:.0f} MiB".format(
            base_mib, vec_mib, peak_mib(), args.batch_size * x[0].nbytes / 2.0**20
        )
    )
    print(
        json.dumps(
            {
                "passes": passes,
                "seconds": results,
                "ratios": ratios,
                "passes_per_s_vectorized": passes / results["vectorized"],
                "max_abs_entropy_diff": diff,
                "peak_rss_mib": peak_mib(),
                "peak_rss_mib_vectorized": vec_mib,
                "batch_size": args.batch_size,
            },
            sort_keys=True,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
