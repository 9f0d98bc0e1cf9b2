#!/usr/bin/env python
"""Defense `nc_unlearning`: Neural Cleanse unlearning of one badnet at one drop%. The badnet is
fine-tuned on clean tuning images, a fraction of them stamped with a flagged label's reversed
trigger and kept at their true label, within the drop% budget on the held-out check part
(bdeval.finetune); saves the net handed back, its GoodNet spec (B vs B') and its result rows."""

import logging
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from bdeval import cli, finetune  # noqa: E402
from bdeval.errors import run_cli  # noqa: E402
from bdeval.inference import predict_labels  # noqa: E402
from bdeval.neural_cleanse import unlearning  # noqa: E402
from bdeval.weights import load_model  # noqa: E402

DEFENSE = "nc_unlearning"


def parse_args(argv):
    parser = finetune.repair_parser(__doc__, epochs=20, learning_rate=1e-3, batch_size=32)
    parser.add_argument("--summary", required=True, help="nc.json of the scan (its `flagged`)")
    parser.add_argument("--triggers", required=True, help="triggers.npz of the scan")
    parser.add_argument(
        "--stamp-fraction",
        type=cli.fraction,
        default=0.2,
        help="share of the tuning images carrying a reversed trigger per epoch",
    )
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    flagged, triggers = unlearning.flagged_triggers(args.summary, args.triggers)
    job = finetune.RepairJob(args, DEFENSE)
    model = load_model(args.weights, args.n_classes)
    fields = {"nc_flagged": flagged, "stamp_fraction": args.stamp_fraction}
    if not flagged:
        logging.info("%s: %s; the GoodNet is the badnet itself", args.badnet, unlearning.NOTHING_FLAGGED)
        job.finish(model, None, note=unlearning.NOTHING_FLAGGED, **fields)
        return 0
    logging.info(
        "%s: unlearning the reversed triggers of label(s) %s on %.0f %% of the tuning " "images per epoch",
        args.badnet,
        flagged,
        100 * args.stamp_fraction,
    )
    rng = np.random.RandomState(args.seed + 1)
    tune = job.tune

    def epoch_data(epoch):
        return unlearning.unlearning_set(tune.x, tune.y, triggers, args.stamp_fraction, rng)

    def trigger_rate(net):
        return unlearning.trigger_rate(
            lambda x: predict_labels(net, x, args.scaling, args.batch_size),
            job.check.x,
            job.check.y,
            triggers,
        )

    result = job.train(model, epoch_data, trigger_rate=trigger_rate)
    chosen = result.checkpoints[result.chosen] if result.chosen is not None else {}
    job.finish(model, result, check_trigger_rate=chosen.get("trigger_rate"), **fields)
    return 0


if __name__ == "__main__":
    run_cli(main)
