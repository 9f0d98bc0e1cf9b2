"""STRIP (Gao et al., ACSAC 2019): run-time detection of trojaned inputs by prediction entropy.

An input is blended with n clean images; a backdoored input keeps predicting its target, so the
mean Shannon entropy (log2) of the n blended predictions is low. Inputs whose entropy is below
a threshold are flagged as poisoned (the GoodNet answers N for them).

Blend rules (raw pixels 0..255, before the badnet's input scaling):
  sum   the original STRIP superimposition (cv2.addWeighted(x, 1, clean, 1, 0)): x + clean,
        clipped to 0..255;
  mean  weighted mean: weight * x + (1 - weight) * clean.

Blend partners: n distinct images of the clean pool (sampling WITHOUT replacement; a pool
with fewer than n images is an error). The partners of an input are drawn with a RandomState
seeded by (seed, CRC-32 of the input's float32 pixels), so an image gets the same partners,
hence the same entropy, whatever set or position it comes in: the per-image command answers
exactly as the evaluation job did.

Thresholds on the clean validation entropies, for a clean-accuracy budget drop% (the false
rejection rate, FRR, allowed on clean data):
  percentile  the drop%-th percentile: exactly floor(n * drop / 100) clean validation inputs
              lie below it (fewer on ties), so the FRR on clean validation is <= drop%;
  normal      the paper's choice: fit a normal distribution to the clean entropies and take
              its drop% quantile, mu + sigma * z(drop / 100).

This module is the NumPy core (checks, blends, partner draws, entropy, thresholds, rates) and
imports no TensorFlow; running the blends through a badnet, and the GoodNet of kind 'strip',
are in bdeval.strip_model; the entropy file is bdeval.strip_store's.
"""

import math
import zlib

import numpy as np

from .drops import check_drop
from .errors import InputError

BLEND_RULES = ("sum", "mean")
THRESHOLD_METHODS = ("percentile", "normal")
MAX_PIXEL = 255.0


# ---------------------------------------------------------------- checks of user values


def _check_count(value, name, what):
    if int(value) != value or value < 1:
        raise InputError(name, "{} must be an integer >= 1, got {!r}".format(what, value))
    return int(value)


def check_n_blends(n_blends, name="n_blends"):
    return _check_count(n_blends, name, "the number of blends")


def check_batch_size(batch_size, name="blend batch size"):
    return _check_count(batch_size, name, "the number of blended images per forward pass")


def check_blend(rule, weight):
    if rule not in BLEND_RULES:
        raise InputError(
            "blend rule {!r}".format(rule), "unknown; use one of {}".format(", ".join(BLEND_RULES))
        )
    if rule == "mean" and not (0.0 < float(weight) < 1.0):
        raise InputError(
            "blend weight {!r}".format(weight),
            "the weight of the input in a 'mean' " "blend must lie in (0, 1)",
        )


def check_pool(pool_size, n_blends, name="clean blend pool"):
    if pool_size < n_blends:
        raise InputError(
            name,
            "{} clean images, fewer than the {} distinct blend partners each input "
            "needs (partners are drawn without replacement); lower n_blends or use a "
            "larger clean validation set".format(pool_size, n_blends),
        )


# ---------------------------------------------------------------- NumPy core


def entropy(probs):
    """Shannon entropy in bits of each row of probabilities (0 log 0 = 0), float64."""
    p = np.asarray(probs, np.float64)
    logs = np.log2(np.where(p > 0, p, 1.0))
    return -np.sum(p * logs, axis=-1)


def blend(x_raw, partners_raw, rule="sum", weight=0.5):
    """Blend raw-pixel inputs with raw-pixel clean partners (broadcasting), float32 0..255."""
    x = np.asarray(x_raw, np.float32)
    partners = np.asarray(partners_raw, np.float32)
    if rule == "sum":
        return np.clip(x + partners, 0.0, MAX_PIXEL)
    if rule == "mean":
        w = np.float32(weight)
        return w * x + (np.float32(1.0) - w) * partners
    raise ValueError("unknown blend rule {!r}; use one of {}".format(rule, BLEND_RULES))


def image_seed(image, seed):
    """Seed words of one image: (seed, CRC-32 of its float32 pixels)."""
    crc = zlib.crc32(np.ascontiguousarray(image, np.float32).tobytes()) & 0xFFFFFFFF
    return [int(seed) & 0xFFFFFFFF, crc]


def partner_indices(x_raw, pool_size, n_blends, seed):
    """(N, n_blends) int32 indices into the clean pool: distinct per input, seeded per image."""
    n_blends = check_n_blends(n_blends)
    check_pool(pool_size, n_blends)
    table = np.empty((len(x_raw), n_blends), np.int32)
    for i in range(len(x_raw)):
        rng = np.random.RandomState(image_seed(x_raw[i], seed))
        table[i] = rng.choice(pool_size, n_blends, replace=False)
    return table


def blend_chunks(n_inputs, n_blends, batch_size):
    """(i0, i1, j0, j1): inputs i0..i1-1 x blend slots j0..j1-1, at most batch_size pairs each.

    Whole inputs (all their blends) are grouped while n_blends <= batch_size; otherwise each
    input's blends are split over several batches.
    """
    if n_blends <= batch_size:
        group = batch_size // n_blends
        for i0 in range(0, n_inputs, group):
            yield i0, min(n_inputs, i0 + group), 0, n_blends
    else:
        for i in range(n_inputs):
            for j0 in range(0, n_blends, batch_size):
                yield i, i + 1, j0, min(n_blends, j0 + batch_size)


# ---------------------------------------------------------------- thresholds and rates


def percentile_threshold(clean_entropies, drop_pct):
    """Threshold below which floor(n * drop / 100) of the clean entropies lie (fewer on ties)."""
    drop = check_drop(drop_pct)
    s = np.sort(np.asarray(clean_entropies, np.float64))
    if s.size == 0:
        raise InputError("clean validation entropies", "empty: no clean images to set a threshold on")
    k = min(int(math.floor(s.size * drop / 100.0 + 1e-9)), s.size - 1)
    if k == 0:
        return float(s[0])  # no clean validation input lies below it
    return float((s[k - 1] + s[k]) / 2.0)


def normal_quantile(p):
    """Inverse CDF of the standard normal distribution (bisection on erfc; no SciPy)."""
    if not 0.0 < p < 1.0:
        raise ValueError("quantile level must lie in (0, 1), got {!r}".format(p))
    lo, hi = -40.0, 40.0
    for _ in range(200):
        mid = (lo + hi) / 2.0
        if 0.5 * math.erfc(-mid / math.sqrt(2.0)) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2.0


def normal_threshold(clean_entropies, drop_pct):
    """The paper's threshold: drop% quantile of a normal fitted to the clean entropies."""
    drop = check_drop(drop_pct)
    e = np.asarray(clean_entropies, np.float64)
    if e.size < 2:
        raise InputError(
            "clean validation entropies",
            "a normal fit needs at least 2 clean images, " "got {}".format(e.size),
        )
    return float(e.mean() + e.std(ddof=1) * normal_quantile(drop / 100.0))


def threshold(clean_entropies, drop_pct, method="percentile"):
    if method == "percentile":
        return percentile_threshold(clean_entropies, drop_pct)
    if method == "normal":
        return normal_threshold(clean_entropies, drop_pct)
    raise InputError(
        "threshold method {!r}".format(method), "unknown; use one of {}".format(", ".join(THRESHOLD_METHODS))
    )


def flagged(entropies, thresh):
    """Inputs judged poisoned: entropy strictly below the threshold."""
    return np.asarray(entropies, np.float64) < thresh


def rejection_rate(entropies, thresh):
    """Fraction flagged (FRR on clean data, detection rate = 1 - FAR on poisoned data)."""
    e = np.asarray(entropies)
    return float(np.mean(flagged(e, thresh))) if e.size else float("nan")


def acceptance_rate(entropies, thresh):
    """Fraction NOT flagged (FAR on poisoned data)."""
    e = np.asarray(entropies)
    return float(np.mean(~flagged(e, thresh))) if e.size else float("nan")


def goodnet_labels(labels, entropies, thresh, n_classes):
    """The STRIP GoodNet: N for flagged inputs, the badnet's label otherwise."""
    return np.where(flagged(entropies, thresh), n_classes, np.asarray(labels))


def rate_curves(clean_entropies, poisoned_entropies, thresholds):
    """FRR of the clean entropies and FAR of each poisoned set at each threshold."""
    t = np.asarray(thresholds, np.float64)
    clean = np.sort(np.asarray(clean_entropies, np.float64))
    curves = {"frr": np.searchsorted(clean, t, side="left") / max(clean.size, 1), "far": {}}
    for name, ent in poisoned_entropies.items():
        s = np.sort(np.asarray(ent, np.float64))
        curves["far"][name] = 1.0 - np.searchsorted(s, t, side="left") / max(s.size, 1)
    return curves
