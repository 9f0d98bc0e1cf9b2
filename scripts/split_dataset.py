#!/usr/bin/env python
"""Split one clean HDF5 set into validation and test parts (seeded, stratified by label where possible)."""

import argparse
import logging
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from bdeval.datasets import load_dataset, save_dataset  # noqa: E402
from bdeval.errors import InputError, run_cli  # noqa: E402


def split_indices(labels, fraction, seed):
    """Seeded split; each label's images are shuffled and dealt out in proportion."""
    rng = np.random.RandomState(seed)
    first = []
    carry = 0.0
    for label in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == label))
        carry += fraction * len(idx)
        take = int(np.floor(carry + 1e-9))
        carry -= take
        first.extend(idx[:take])
    first = np.sort(np.array(first, dtype=np.int64))
    second = np.setdiff1d(np.arange(len(labels)), first)
    return first, second


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("source")
    parser.add_argument("--validation", required=True, help="output: validation part")
    parser.add_argument("--test", required=True, help="output: test part")
    parser.add_argument("--validation-fraction", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    data = load_dataset(args.source)
    if not 0 < args.validation_fraction < 1:
        raise InputError(args.source, "--validation-fraction must be in (0, 1)")
    valid, test = split_indices(data.y, args.validation_fraction, args.seed)
    if len(valid) == 0 or len(test) == 0:
        raise InputError(args.source, "too few images ({}) to split".format(len(data.y)))
    save_dataset(args.validation, data.x[valid], data.y[valid])
    save_dataset(args.test, data.x[test], data.y[test])
    logging.info("%s: %d validation, %d test images", args.source, len(valid), len(test))
    return 0


if __name__ == "__main__":
    run_cli(main)
