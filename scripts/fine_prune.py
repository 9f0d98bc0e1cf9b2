#!/usr/bin/env python
"""Defense `fine_pruning`: fine-tune a pruned net on part of the clean validation data, pruned
channels kept at zero, within the drop% budget on the held-out check part; save the net handed
back, its GoodNet spec (B vs B') and its result rows (bdeval.finetune)."""

import logging
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from bdeval import finetune, pruning  # noqa: E402
from bdeval.errors import run_cli  # noqa: E402
from bdeval.weights import load_model, read_weight_arrays  # noqa: E402

DEFENSE = "fine_pruning"


def parse_args(argv):
    parser = finetune.repair_parser(__doc__, epochs=10, learning_rate=1e-3, batch_size=64)
    parser.add_argument("--pruned-weights", required=True, help="the pruning job's net of this drop%%")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    job = finetune.RepairJob(args, DEFENSE)
    pruned = pruning.zero_channels(read_weight_arrays(args.pruned_weights))
    model = load_model(args.pruned_weights, args.n_classes)
    n_channels = model.get_layer(pruning.LAYER).get_weights()[1].shape[0]
    if len(pruned) == n_channels:
        logging.warning(
            "%s: every %s channel is pruned; only the output bias can still learn",
            args.pruned_weights,
            pruning.LAYER,
        )
    logging.info(
        "%s: %d of %d %s channels pruned: %s",
        args.pruned_weights,
        len(pruned),
        n_channels,
        pruning.LAYER,
        pruned,
    )
    result = job.train(model, callbacks=[pruning.KeepPruned(pruned)])
    for weights in result.weights:
        kernel, bias = _conv3(model, weights)
        if pruned and (np.any(kernel[..., pruned]) or np.any(bias[pruned])):
            raise RuntimeError("pruned channels are no longer zero after fine-tuning")
    # channels_pruned: what fine-pruning pruned; with no checkpoint within budget the net handed
    # back is the badnet itself and the note says so
    job.finish(
        model,
        result,
        channels_pruned=len(pruned),
        channels_total=n_channels,
        record_fields={"pruned_channels": pruned, "pruned_weights": args.pruned_weights},
    )
    return 0


def _conv3(model, weights):
    """(kernel, bias) of conv_3 in a model.get_weights() list."""
    start = sum(
        len(layer.get_weights())
        for layer in model.layers[: model.layers.index(model.get_layer(pruning.LAYER))]
    )
    return weights[start], weights[start + 1]


if __name__ == "__main__":
    run_cli(main)
