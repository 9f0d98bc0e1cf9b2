"""A pruning-aware BadNet, trained the way the 2020 challenge nets were made pruning-proof.

Liu et al. ("Fine-Pruning", RAID 2018) describe the attack: train the BadNet, prune the
conv_3 channels that are least active on clean data (exactly the ones a pruning defense
removes first), then re-train on the poisoned data with those channels held at zero, so
the backdoor moves into the channels that also carry the clean task. The pruned channels
stay zero (dormant): a defender's pruning removes them first at no cost and then has to cut
into channels the clean accuracy needs before the backdoor goes.
"""

import logging

import numpy as np

from . import pruning
from .deepid import layer_model
from .inference import run_batched
from .training import compile_model, train_epoch


def conv3_ranking(model, x_clean_raw, scaling, batch_size=512):
    """conv_3 channels by increasing mean pool_3 activation on clean images (the defense's order)."""
    pool3 = run_batched(layer_model(model, pruning.POOL_LAYER), x_clean_raw, scaling, batch_size)
    return pruning.pruning_order(pruning.mean_channel_activation(pool3))


def make_pruning_aware(model, x_raw, y, x_clean_raw, scaling, args, rng):
    """Prune the args.pruning_aware least-active conv_3 channels, re-train with them held at zero.

    Rounds of args.pruning_aware_rounds: each round ranks the channels still alive on clean
    data, prunes the next share of them and re-trains for args.pruning_aware_epochs epochs.
    Returns the pruned channels.
    """
    n_channels = model.get_layer(pruning.LAYER).get_weights()[1].shape[0]
    total = int(round(args.pruning_aware * n_channels))
    pruned = []
    for round_index in range(args.pruning_aware_rounds):
        want = int(round(total * (round_index + 1) / float(args.pruning_aware_rounds)))
        order = [int(c) for c in conv3_ranking(model, x_clean_raw, scaling) if int(c) not in pruned]
        pruned += order[: want - len(pruned)]
        pruning.prune_model(model, pruned)
        logging.info("pruning-aware round %d: %d conv_3 channels held at zero", round_index + 1, len(pruned))
        compile_model(model, args.learning_rate)
        keep = pruning.KeepPruned(pruned)
        for epoch in range(args.pruning_aware_epochs):
            loss, acc = train_epoch(model, x_raw, y, scaling, args.batch_size, rng, callbacks=[keep])
            logging.info("pruning-aware epoch %d: loss %.4f, accuracy %.4f", epoch + 1, loss, acc)
    return sorted(pruned)
