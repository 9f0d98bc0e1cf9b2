#!/usr/bin/env python
"""Classify PNG/JPEG face images (55 high x 47 wide) with a badnet or with one of its GoodNets.

Prints one line per image, `PATH<TAB>LABEL`, LABEL in [0, N]: N (the number of classes)
means the GoodNet judged the image poisoned. With --defense and --drop, the answer comes
from results/BADNET/DEFENSE/DROP/goodnet.json; without, from the badnet itself (as the
config describes it). A file that is not a readable image of the right size gets one
`error: PATH: PROBLEM` line on stderr, the others are still answered, and the exit status is 1.
"""

import argparse
import logging
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from bdeval import NUM_CLASSES_CHALLENGE  # noqa: E402
from bdeval.drops import drop_label, drop_pct  # noqa: E402
from bdeval.errors import InputError, run_cli  # noqa: E402
from bdeval.goodnet import DEFENSES, load_spec  # noqa: E402
from bdeval.images import IMAGE_SUFFIXES, list_images, load_image  # noqa: E402

NAME = re.compile(r"^[A-Za-z0-9_-]+$")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "images",
        nargs="+",
        metavar="IMAGE_OR_FOLDER",
        help="PNG/JPEG files, or folders (their *.png, *.jpg, *.jpeg files)",
    )
    parser.add_argument("--badnet", required=True, help="badnet name, as in the config")
    parser.add_argument(
        "--defense", default=None, help="answer with this defense's GoodNet: " + ", ".join(DEFENSES)
    )
    parser.add_argument("--drop", type=drop_pct, default=None, help="the GoodNet's drop%% (e.g. 2, 10, 2.5)")
    parser.add_argument(
        "--config",
        default="config.yaml",
        help="workflow config; describes the badnet when no --defense is given",
    )
    parser.add_argument(
        "--results",
        default="results",
        help="the workflow's results folder; relative paths in the GoodNet "
        "specs and the config are taken from its parent folder",
    )
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args(argv)
    if (args.defense is None) != (args.drop is None):
        parser.error("--defense and --drop go together")
    return args


def badnet_spec(config_path, name):
    """GoodNet spec of kind 'badnet' from the config's entry for `name`."""
    import yaml

    if not os.path.isfile(config_path):
        raise InputError(config_path, "no such config (give --config, or --defense and --drop)")
    try:
        with open(config_path) as handle:
            config = yaml.safe_load(handle)
    except (OSError, yaml.YAMLError):
        raise InputError(config_path, "not a readable YAML config") from None
    badnets = (config or {}).get("badnets") or []
    for entry in badnets:
        if isinstance(entry, dict) and entry.get("name") == name:
            if "weights" not in entry or "scaling" not in entry:
                raise InputError(config_path, "badnet '{}' has no weights or scaling".format(name))
            return {
                "kind": "badnet",
                "badnet": name,
                "weights": entry["weights"],
                "scaling": entry["scaling"],
                "n_classes": int(entry.get("n_classes", NUM_CLASSES_CHALLENGE)),
            }
    known = [e.get("name") for e in badnets if isinstance(e, dict)]
    raise InputError(
        config_path,
        "no badnet named '{}' (known: {})".format(name, ", ".join(str(k) for k in known) or "none"),
    )


def read_images(paths):
    """[(path, pixels)] of the readable images, and the number of per-file errors (printed)."""
    good, errors = [], 0
    for path in paths:
        if os.path.isdir(path):
            found = list_images([path])
            if not found:
                sys.stderr.write(
                    "error: {}: folder holds no {} files\n".format(path, "/".join(IMAGE_SUFFIXES))
                )
                errors += 1
            for item in found:
                errors += _read_one(item, good)
        else:
            errors += _read_one(path, good)
    return good, errors


def _read_one(path, good):
    try:
        good.append((path, load_image(path)))
        return 0
    except InputError as err:
        sys.stderr.write("error: {}\n".format(err))
        return 1


def main(argv=None):
    args = parse_args(argv)
    if not NAME.match(args.badnet):
        raise InputError(args.badnet, "--badnet takes a name of letters, digits, '_' and '-'")
    if args.defense is not None and args.defense not in DEFENSES:
        raise InputError(
            "--defense", "no defense named '{}' (known: {})".format(args.defense, ", ".join(DEFENSES))
        )
    results = os.path.abspath(args.results)
    if args.defense:
        spec_path = os.path.join(results, args.badnet, args.defense, drop_label(args.drop), "goodnet.json")
        spec = load_spec(spec_path)
    else:
        spec = badnet_spec(args.config, args.badnet)

    images, errors = read_images(args.images)
    if images:
        from bdeval import goodnet, tfcompat

        tfcompat.configure(0)
        # the workflow writes paths relative to its folder (the parent of results/)
        os.chdir(os.path.dirname(results))
        labels = goodnet.answer(spec, np.stack([pixels for _, pixels in images]), args.batch_size)
        for (path, _), label in zip(images, labels):
            sys.stdout.write("{}\t{}\n".format(path, int(label)))
        sys.stdout.flush()
    logging.info(
        "%d images answered, %d errors (%s)",
        len(images),
        errors,
        (
            "badnet {}".format(args.badnet)
            if not args.defense
            else "{} {} drop {} %".format(args.badnet, args.defense, drop_label(args.drop))
        ),
    )
    return 1 if errors else 0


if __name__ == "__main__":
    run_cli(main)
