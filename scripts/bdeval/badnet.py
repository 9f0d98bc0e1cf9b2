"""One badnet as the scripts see it: its model and its evaluation sets, loaded and checked."""

import collections
import logging

from .datasets import load_dataset
from .weights import load_model

PoisonedSet = collections.namedtuple("PoisonedSet", ["trigger", "target", "data"])
EvalData = collections.namedtuple("EvalData", ["clean_validation", "clean_test", "poisoned"])


def load_eval_data(args):
    """Clean validation/test sets and the poisoned sets named by add_badnet_args arguments."""
    n = args.n_classes
    valid = load_dataset(args.clean_validation, n)
    test = load_dataset(args.clean_test, n)
    poisoned = []
    for trigger, target, path in args.poisoned:
        data = load_dataset(path, n)
        if (data.y != target).any():
            logging.warning(
                "%s: %d labels differ from the configured target %d; ASR counts "
                "predictions equal to the target",
                path,
                int((data.y != target).sum()),
                target,
            )
        poisoned.append(PoisonedSet(trigger, target, data))
    logging.info(
        "%s: %d clean validation, %d clean test, poisoned %s",
        args.badnet,
        len(valid.y),
        len(test.y),
        {p.trigger: len(p.data.y) for p in poisoned} or "none",
    )
    return EvalData(valid, test, poisoned)


def load_badnet_model(args):
    model = load_model(args.weights, args.n_classes)
    logging.info(
        "%s: loaded %s (%d classes, scaling %s)", args.badnet, args.weights, args.n_classes, args.scaling
    )
    return model
