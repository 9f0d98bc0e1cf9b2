"""Argument types shared by the command-line scripts."""

import argparse


def poison_spec(text):
    """'TRIGGER:TARGET' -> (trigger, target)."""
    name, sep, target = text.rpartition(":")
    if not sep or not name or not target.isdigit():
        raise argparse.ArgumentTypeError("expected TRIGGER:TARGET, got {!r}".format(text))
    return name, int(target)


def poisoned_set(text):
    """'NAME:TARGET:FILE' -> (name, target, file)."""
    parts = text.split(":", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        raise argparse.ArgumentTypeError("expected NAME:TARGET:FILE, got {!r}".format(text))
    return parts[0], int(parts[1]), parts[2]


def add_poisoned_arg(parser, help_text):
    """--poisoned TRIGGER:TARGET:FILE, repeatable (a list of (trigger, target, path))."""
    parser.add_argument(
        "--poisoned",
        type=poisoned_set,
        action="append",
        default=[],
        metavar="TRIGGER:TARGET:FILE",
        help=help_text,
    )


def add_badnet_args(parser):
    """The arguments every evaluation script takes to describe one badnet."""
    group = parser.add_argument_group("badnet")
    group.add_argument("--badnet", required=True, help="name used in tables")
    group.add_argument("--weights", required=True, help="Keras-2 weights or full-model .h5")
    group.add_argument("--n-classes", type=int, default=1283)
    group.add_argument("--scaling", required=True, choices=["x/255", "raw"])
    group.add_argument("--clean-validation", required=True, help="clean validation HDF5")
    group.add_argument("--clean-test", required=True, help="clean test HDF5")
    add_poisoned_arg(group, "a poisoned set (repeat per trigger)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for TensorFlow")
    parser.add_argument("--seed", type=int, default=1)


def positive(kind):
    """argparse type: a number of `kind` (int, float) above 0."""

    def parse(text):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError("expected a positive number, got {}".format(text))
        return value

    return parse


def fraction(text):
    """argparse type: a fraction strictly between 0 and 1."""
    value = float(text)
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError("expected a fraction strictly between 0 and 1, got {}".format(text))
    return value
