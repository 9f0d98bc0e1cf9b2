"""STRIP through a badnet (TensorFlow): the mean entropy of each input's blends, and the GoodNet
of kind 'strip'. The blend rules, partner draws, entropy and thresholds are bdeval.strip's."""

import logging
import time

import numpy as np

from . import strip
from .datasets import load_dataset
from .errors import InputError
from .inference import predict_labels, scale
from .tfcompat import batch_predictor
from .weights import load_model

_PREDICTOR = [None, None]  # (model, its batch predictor): traced once, reused across calls


def _predictor(model):
    if _PREDICTOR[0] is not model:
        _PREDICTOR[:] = [model, batch_predictor(model)]
    return _PREDICTOR[1]


def strip_entropies(
    model,
    x_raw,
    pool_raw,
    n_blends,
    scaling,
    rule="sum",
    weight=0.5,
    seed=1,
    batch_size=100,
    log_label="strip",
):
    """Mean entropy over n_blends blends of each input, vectorized over inputs x blends.

    Blends are built by broadcasting (inputs x partners) and run through the badnet in forward
    batches of at most `batch_size` blended images, so memory is bounded by one batch
    whatever N and n_blends are.
    """
    n_blends = strip.check_n_blends(n_blends)
    strip.check_blend(rule, weight)
    batch_size = strip.check_batch_size(batch_size)
    x_raw = np.asarray(x_raw, np.float32)
    pool_raw = np.asarray(pool_raw, np.float32)
    n = len(x_raw)
    partners = strip.partner_indices(x_raw, len(pool_raw), n_blends, seed)
    predict = _predictor(model)
    sums = np.zeros(n, np.float64)
    total = n * n_blends
    done, next_log = 0, total / 10.0
    started = time.time()
    for i0, i1, j0, j1 in strip.blend_chunks(n, n_blends, batch_size):
        blended = strip.blend(x_raw[i0:i1, None], pool_raw[partners[i0:i1, j0:j1]], rule, weight)
        probs = np.asarray(predict(scale(blended.reshape((-1,) + x_raw.shape[1:]), scaling)))
        sums[i0:i1] += strip.entropy(probs).reshape(i1 - i0, j1 - j0).sum(axis=1)
        done += (i1 - i0) * (j1 - j0)
        if done >= next_log or done == total:
            next_log += total / 10.0
            logging.info(
                "%s: %d / %d inputs blended x%d (%.0f forward passes/s)",
                log_label,
                done // n_blends,
                n,
                n_blends,
                done / max(time.time() - started, 1e-9),
            )
    return sums / n_blends


# ---------------------------------------------------------------- GoodNet of kind 'strip'

SPEC_KEYS = (
    "weights",
    "n_classes",
    "scaling",
    "threshold",
    "n_blends",
    "blend",
    "weight",
    "seed",
    "blend_pool",
)


def goodnet_answer(spec, x_raw, batch_size=256):
    """Labels in [0, N] for raw-pixel inputs: N where the STRIP entropy is below the threshold."""
    missing = [k for k in SPEC_KEYS if k not in spec]
    if missing:
        raise InputError("GoodNet spec", "kind 'strip' lacks {}".format(", ".join(missing)))
    n_classes = int(spec["n_classes"])
    model = load_model(spec["weights"], n_classes)
    pool = load_dataset(spec["blend_pool"], n_classes).x
    x_raw = np.asarray(x_raw, np.float32)
    forward_batch = int(spec.get("batch_size") or batch_size)
    entropies = strip_entropies(
        model,
        x_raw,
        pool,
        spec["n_blends"],
        spec["scaling"],
        spec["blend"],
        spec["weight"],
        spec["seed"],
        forward_batch,
    )
    labels = predict_labels(model, x_raw, spec["scaling"], batch_size)
    return strip.goodnet_labels(labels, entropies, float(spec["threshold"]), n_classes)
