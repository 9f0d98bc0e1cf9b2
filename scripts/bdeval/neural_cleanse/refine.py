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


def separated(candidates, norms, ratio):
    """The labels flagged with confidence among `candidates` (labels passing the paper's test):
    the largest block of the k smallest candidates whose every trigger is at most 1/ratio the
    size of the smallest trigger outside the block (norms: {label: L1} of the labels of the final
    statistic). Empty when no block stands apart.

    On 1283 labels the smallest ordinary triggers lie close together (consecutive ratios up to
    1.33 on the five real nets), so a label passing the paper's test but not standing apart from
    its nearest neighbour cannot be told from the smallest of many ordinary labels."""
    order = sorted(candidates, key=lambda y: (norms[y], y))
    for k in range(len(order), 0, -1):
        block = set(order[:k])
        rest = [n for y, n in norms.items() if y not in block]
        if not rest or max(norms[y] for y in block) * ratio <= min(rest):
            return sorted(block, key=lambda y: (norms[y], y))
    return []


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
