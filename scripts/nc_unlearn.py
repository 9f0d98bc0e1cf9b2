#!/usr/bin/env python
"""Defense `nc_unlearning`: Neural Cleanse unlearning of one badnet at one drop%. The badnet is
fine-tuned on clean tuning images, a fraction of them stamped with a flagged label's reversed
trigger, within the drop% budget on the held-out check part (bdeval.finetune); saves the net
handed back, its GoodNet spec (B vs B') and its result rows.

--teacher labels: the stamped images keep their true label (the paper). --teacher badnet: every
tuning image, stamped or not, is trained towards the badnet's own answer (probabilities) on the
clean image, so the net unlearns the trigger without being pulled towards the few identities of
a small tuning set, which costs the accuracy of every class it lacks (on the real sunglasses net
with 24 tuning images, true labels took clean test accuracy from 90 to 40 % in 6 epochs; the
badnet as teacher kept 90 %). --teacher auto (default): labels when the tuning part holds every
class, else the badnet."""

import logging
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from bdeval import cli, finetune  # noqa: E402
from bdeval.errors import run_cli  # noqa: E402
from bdeval.inference import predict_labels, predict_proba  # noqa: E402
from bdeval.neural_cleanse import unlearning  # noqa: E402
from bdeval.training import SOFT, SPARSE  # noqa: E402
from bdeval.weights import load_model  # noqa: E402

DEFENSE = "nc_unlearning"


def parse_args(argv):
    parser = finetune.repair_parser(__doc__, epochs=20, learning_rate=None, batch_size=32)
    parser.add_argument("--summary", required=True, help="nc.json of the scan (its `flagged`)")
    parser.add_argument("--triggers", required=True, help="triggers.npz of the scan")
    parser.add_argument(
        "--teacher",
        choices=["auto", "badnet", "labels"],
        default="auto",
        help="targets: the badnet's answers on the clean images, or the true labels (the paper); "
        "auto: labels when the tuning part holds every class",
    )
    parser.add_argument(
        "--stamp-fraction",
        type=cli.fraction,
        default=0.2,
        help="share of the tuning images carrying a reversed trigger per epoch",
    )
    return parser.parse_args(argv)


LEARNING_RATES = {"labels": 1e-3, "badnet": 3e-4}  # the defaults per teacher


def choose_teacher(args, tune_y):
    """The teacher ('labels' or 'badnet') and the learning rate of this job."""
    teacher = args.teacher
    if teacher == "auto":
        teacher = "labels" if len(np.unique(tune_y)) >= args.n_classes else "badnet"
    return teacher, args.learning_rate or LEARNING_RATES[teacher]


def main(argv=None):
    args = parse_args(argv)
    flagged, triggers = unlearning.flagged_triggers(args.summary, args.triggers)
    job = finetune.RepairJob(args, DEFENSE)
    args.teacher, args.learning_rate = choose_teacher(args, job.tune.y)
    model = load_model(args.weights, args.n_classes)
    fields = {"nc_flagged": flagged, "stamp_fraction": args.stamp_fraction, "teacher": args.teacher}
    if not flagged:
        logging.info("%s: %s; the GoodNet is the badnet itself", args.badnet, unlearning.NOTHING_FLAGGED)
        job.finish(model, None, note=unlearning.NOTHING_FLAGGED, **fields)
        return 0
    logging.info(
        "%s: unlearning the reversed triggers of label(s) %s on %.0f %% of the tuning images per "
        "epoch; targets: %s",
        args.badnet,
        flagged,
        100 * args.stamp_fraction,
        "the true labels" if args.teacher == "labels" else "the badnet's answers on the clean images",
    )
    rng = np.random.RandomState(args.seed + 1)
    tune = job.tune
    targets, loss = tune.y, SPARSE
    if args.teacher == "badnet":
        targets, loss = predict_proba(job.badnet, tune.x, args.scaling, args.batch_size), SOFT

    def epoch_data(epoch):
        return unlearning.unlearning_set(tune.x, targets, triggers, args.stamp_fraction, rng)

    def trigger_rate(net):
        return unlearning.trigger_rate(
            lambda x: predict_labels(net, x, args.scaling, args.batch_size),
            job.check.x,
            job.check.y,
            triggers,
        )

    result = job.train(model, epoch_data, trigger_rate=trigger_rate, loss=loss)
    chosen = result.checkpoints[result.chosen] if result.chosen is not None else {}
    job.finish(model, result, check_trigger_rate=chosen.get("trigger_rate"), **fields)
    return 0


if __name__ == "__main__":
    run_cli(main)
