"""Two-stage Neural Cleanse verdict, in plain NumPy: which labels to refine, and the MAD test
of the refined norms.

Stage 1 (screening) reverse-engineers every label with a cheap schedule; its norms are noisy.
Stage 2 refines, with a careful schedule, (a) the candidates: the `n_candidates` labels with the
smallest screening norms plus every label the screening MAD flags, and (b) a seeded random
reference sample of `n_reference` other labels. The median and MAD come from the refined
reference sample only, so refined and screened norms never meet in one statistic; every
refined label is then tested against them as in the paper (below the median, index above the
threshold). With few labels (candidates + reference would cover them all) every label is
refined and the statistic is the paper's, over all labels.
"""

import numpy as np

from .. import mad

REFERENCE_SEED_SALT = 7919  # keeps the reference draw apart from other uses of the seed


def select(labels, screen_norms, n_candidates, n_reference, seed, threshold=mad.DEFAULT_THRESHOLD):
    """{'candidates': [...], 'reference': [...], 'all_labels': bool}: the labels to refine.

    all_labels True: every label is refined and every label is in the reference."""
    labels = np.asarray([int(y) for y in labels])
    norms = np.asarray(screen_norms, np.float64)
    if labels.shape != norms.shape or labels.size < 3:
        raise ValueError("need one screening norm per label and at least 3 labels")
    if labels.size <= n_candidates + n_reference:
        everything = sorted(int(y) for y in labels)
        return {"candidates": everything, "reference": everything, "all_labels": True}
    order = np.argsort(norms, kind="stable")
    chosen = set(int(y) for y in labels[order[:n_candidates]])
    chosen |= set(int(y) for y in labels[mad.flagged(norms, threshold)])
    rest = np.asarray(sorted(set(int(y) for y in labels) - chosen))
    rng = np.random.RandomState([int(seed) % (2**32), REFERENCE_SEED_SALT])
    reference = rng.choice(rest, min(n_reference, len(rest)), replace=False)
    return {"candidates": sorted(chosen), "reference": sorted(int(y) for y in reference), "all_labels": False}


def reference_statistic(norms):
    """(median, scale = 1.4826 x MAD) of the reference norms."""
    norms = np.asarray(norms, np.float64)
    median = float(np.median(norms))
    return median, float(mad.CONSISTENCY * np.median(np.abs(norms - median)))


def test(refined, reference, threshold=mad.DEFAULT_THRESHOLD):
    """MAD test of refined norms ({label: L1}) against the refined reference sample.

    Returns {'index': {label: anomaly index}, 'flagged': [labels, largest index first],
    'median_l1', 'mad_scale', 'max_anomaly_index' (largest index below the median)}."""
    missing = [y for y in reference if y not in refined]
    if missing:
        raise ValueError("reference labels {} have no refined norm".format(missing[:5]))
    median, scale = reference_statistic([refined[y] for y in reference])
    index = {}
    for label, norm in refined.items():
        deviation = abs(norm - median)
        index[int(label)] = deviation / scale if scale > 0 else (0.0 if deviation == 0 else float("inf"))
    below = [y for y in index if refined[y] < median]
    flagged = sorted((y for y in below if index[y] > threshold), key=lambda y: (-index[y], y))
    return {
        "index": index,
        "flagged": flagged,
        "median_l1": median,
        "mad_scale": scale,
        "max_anomaly_index": max([index[y] for y in below] or [0.0]),
    }


NULL_SIMULATIONS = 2000  # simulated clean nets behind each chance (its resolution: 1/2001)
_NULLS = {}  # (n_labels, n_reference, n_candidates, sims) -> sorted null_smallest_z


def robust_z(norms, reference):
    """Distances below the reference's median on the log scale, in units of 1.4826 x MAD of the
    reference's log norms (positive = smaller than the median; the paper's index on log norms)."""
    logs = np.log(np.maximum(np.asarray(reference, np.float64), 1e-6))
    median = float(np.median(logs))
    scale = float(mad.CONSISTENCY * np.median(np.abs(logs - median)))
    values = median - np.log(np.maximum(np.asarray(norms, np.float64), 1e-6))
    if scale > 0:
        return values / scale
    return np.where(values > 0, np.inf, 0.0)


def null_smallest_z(n_labels, n_reference, n_candidates, sims=NULL_SIMULATIONS, seed=0):
    """robust_z of the smallest label on `sims` simulated clean nets: n_labels ordinary labels
    with log-normal norms, the n_candidates smallest set aside as candidates and a random
    reference sample of n_reference of the others, as the two-stage scan chooses them. Scale-free,
    so it holds for any median and spread; it carries the noise of a small reference's MAD."""
    rng = np.random.RandomState([int(seed), int(n_labels), int(n_reference), int(n_candidates)])
    out = np.empty(int(sims))
    for i in range(int(sims)):
        logs = rng.normal(size=int(n_labels))
        order = np.argsort(logs)
        rest = order[int(n_candidates) :] if n_labels - n_candidates >= n_reference else order
        chosen = rng.choice(rest, int(n_reference), replace=False) if n_reference < len(rest) else rest
        reference = np.exp(logs[chosen])
        out[i] = robust_z(np.exp(logs[order[0]]), reference)
    return out


def smallest_chance(norms, reference, n_labels, n_candidates=0, sims=NULL_SIMULATIONS):
    """Per norm: the chance that on a net of `n_labels` ordinary labels the smallest trigger
    stands at least this far below the reference (robust_z), counting the noise of the reference
    sample itself (null_smallest_z; a Monte Carlo p-value, seeded: the same inputs give the same
    chance).

    On 1283 labels the smallest ordinary triggers naturally lie 2-3 MADs below the median, so
    the paper's per-label test (index above 2, about 2 % per label) flags some on every net. This
    asks whether ANY of that many ordinary labels would be expected so small: a norm whose chance
    is below alpha stands out from all of them. Log scale: norms are positive and right-skewed;
    their logarithms are closer to symmetric."""
    key = (int(n_labels), len(reference), int(n_candidates), int(sims))
    if key not in _NULLS:
        _NULLS[key] = np.sort(null_smallest_z(*key))
    null = _NULLS[key]
    z = np.atleast_1d(robust_z(norms, reference))
    exceeding = len(null) - np.searchsorted(null, z, side="left")
    return (1.0 + exceeding) / (len(null) + 1.0)


def log_index(refined, reference):
    """{label: signed index of log(L1) against the reference's log norms}: positive = smaller than
    the median. Reported beside the paper's index, never instead: norms are positive and
    right-skewed, and on the log scale a small trigger stands further from ordinary ones."""
    logs = {int(y): float(np.log(max(n, 1e-6))) for y, n in refined.items()}
    median, scale = reference_statistic([logs[y] for y in reference])
    return {y: (median - v) / scale if scale > 0 else 0.0 for y, v in logs.items()}


def ranks(norms_by_label):
    """{label: rank of its norm, 1 = smallest} (ties share the better rank)."""
    values = np.asarray(list(norms_by_label.values()), np.float64)
    return {int(y): int(np.sum(values < v)) + 1 for y, v in norms_by_label.items()}


def mask_overlap(mask, rows):
    """Fraction of the mask's L1 mass in the image rows [first, last] (a known trigger's place)."""
    mask = np.abs(np.asarray(mask, np.float64))
    total = mask.sum()
    first, last = rows
    return float(mask[first : last + 1].sum() / total) if total > 0 else 0.0


def combine_restarts(runs):
    """One label's optimizations from differently seeded starts -> the run with the median norm
    (the lower middle one for an even count), with every run's norm in `restart_l1`, run order.

    An ordinary label's unusually small trigger is often one lucky optimization that another
    start does not repeat; a backdoor's small trigger is found from every start."""
    order = sorted(range(len(runs)), key=lambda i: (runs[i]["l1_norm"], i))
    chosen = dict(runs[order[(len(runs) - 1) // 2]])
    chosen["restart_l1"] = [float(r["l1_norm"]) for r in runs]
    return chosen
