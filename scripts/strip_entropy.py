#!/usr/bin/env python
"""STRIP entropies of one badnet: clean validation, clean test and every poisoned set.

Each input is blended with --n-blends clean validation images (the blend pool) and the mean
Shannon entropy (bits) of the badnet's predictions on the blends is stored, with the badnet's
label of the unblended input, in one .npz that every drop% threshold job reuses.
"""

import argparse
import logging
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bdeval import strip, strip_store, tfcompat  # noqa: E402
from bdeval.badnet import load_badnet_model, load_eval_data  # noqa: E402
from bdeval.cli import add_badnet_args  # noqa: E402
from bdeval.errors import run_cli  # noqa: E402
from bdeval.inference import predict_labels  # noqa: E402
from bdeval.strip_model import strip_entropies  # noqa: E402


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__)
    add_badnet_args(parser)
    parser.add_argument("--n-blends", type=int, default=100, help="clean images blended with each input")
    parser.add_argument(
        "--blend",
        default="sum",
        choices=strip.BLEND_RULES,
        help="sum: original STRIP (x + clean, clipped to 0..255); " "mean: weight * x + (1 - weight) * clean",
    )
    parser.add_argument("--weight", type=float, default=0.5, help="weight of the input in a 'mean' blend")
    parser.add_argument(
        "--blend-batch-size", type=int, default=100, help="blended images per forward pass (bounds memory)"
    )
    parser.add_argument("--out", required=True, help="entropies (.npz)")
    return parser.parse_args(argv)


def set_entropies(model, name, x, pool, args):
    started = time.time()
    ent = strip_entropies(
        model,
        x,
        pool,
        args.n_blends,
        args.scaling,
        args.blend,
        args.weight,
        args.seed,
        args.blend_batch_size,
        log_label="{} {}".format(args.badnet, name),
    )
    seconds = time.time() - started
    logging.info(
        "%s: mean entropy %.3f bits (min %.3f, max %.3f) over %d inputs, %.1f s",
        name,
        float(ent.mean()),
        float(ent.min()),
        float(ent.max()),
        len(ent),
        seconds,
    )
    return ent, seconds


def main(argv=None):
    args = parse_args(argv)
    strip.check_n_blends(args.n_blends, "--n-blends")
    strip.check_blend(args.blend, args.weight)
    strip.check_batch_size(args.blend_batch_size, "--blend-batch-size")
    tfcompat.configure(args.seed, args.threads)
    data = load_eval_data(args)
    pool = data.clean_validation.x
    strip.check_pool(len(pool), args.n_blends, args.clean_validation)
    model = load_badnet_model(args)

    names = strip_store.set_names([p.trigger for p in data.poisoned])
    datasets = [data.clean_validation, data.clean_test] + [p.data for p in data.poisoned]
    sets = {}
    seconds = 0.0
    n_inputs = 0
    for name, ds in zip(names, datasets):
        ent, took = set_entropies(model, name, ds.x, pool, args)
        sets[name] = {
            "entropy": ent,
            "pred": predict_labels(model, ds.x, args.scaling, args.batch_size),
            "label": ds.y,
        }
        seconds += took
        n_inputs += len(ds.y)
    rate = n_inputs * args.n_blends / max(seconds, 1e-9)
    logging.info(
        "%s: %d inputs x %d blends in %.1f s: %.0f forward passes/s",
        args.badnet,
        n_inputs,
        args.n_blends,
        seconds,
        rate,
    )
    meta = {
        "badnet": args.badnet,
        "weights": args.weights,
        "n_classes": args.n_classes,
        "scaling": args.scaling,
        "blend_pool": args.clean_validation,
        "clean_test": args.clean_test,
        "n_blends": args.n_blends,
        "blend": args.blend,
        "weight": args.weight,
        "seed": args.seed,
        "batch_size": args.blend_batch_size,
        "poisoned": [{"trigger": p.trigger, "target": p.target} for p in data.poisoned],
        "seconds": seconds,
        "forward_passes_per_s": rate,
        "stack": tfcompat.stack_description(),
    }
    strip_store.save_entropies(args.out, meta, sets)
    logging.info("wrote %s", args.out)
    return 0


if __name__ == "__main__":
    run_cli(main)
