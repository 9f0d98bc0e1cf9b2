"""A drop%: the clean-accuracy budget of a defense, in percentage points, strictly in (0, 100).

Its folder and wildcard name (`drop_label`), its argparse type (`drop_pct`) and its check for
library code (`check_drop`). Plain Python (no NumPy, no TensorFlow): Snakemake imports it too.
"""

import argparse
import math

from .errors import InputError


def drop_label(drop):
    """The name of a drop% in paths and wildcards: 2 and 2.0 -> '2', 2.5 -> '2.5'."""
    return "{:g}".format(float(drop))


def _problem(value):
    """(float value, None), or (None, what is wrong with `value` as a drop%)."""
    try:
        drop = float(value)
    except (TypeError, ValueError):
        return None, "is not a number (a drop% reads like 2, 10 or 2.5)"
    if not (math.isfinite(drop) and 0.0 < drop < 100.0):
        return None, "must lie strictly between 0 and 100"
    return drop, None


def check_drop(value):
    """`value` as a float drop%; InputError naming the value and the problem otherwise."""
    drop, problem = _problem(value)
    if problem:
        raise InputError("drop% {!r}".format(value), problem)
    return drop


def drop_pct(text):
    """argparse type of a drop% argument."""
    drop, problem = _problem(text)
    if problem:
        raise argparse.ArgumentTypeError("drop% {!r} {}".format(text, problem))
    return drop
