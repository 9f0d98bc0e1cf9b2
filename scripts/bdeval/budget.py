"""The numerical core of every repair that trains (fine-pruning, Neural Cleanse unlearning).

Plain NumPy, no TensorFlow:
- `tuning_check_split`: the clean validation set, split seeded and per class into a tuning part
  (trained on) and a check part (never trained on: early stopping, the budget, the table's
  `clean_acc_valid`);
- `within_budget` and `select_checkpoint`: the drop% budget on the check part, and the checkpoint
  a repair hands back.
"""

import numpy as np

NO_REPAIR = "no repair within budget"


def tuning_check_split(labels, fraction, seed):
    """(tuning indices, check indices), both sorted; seeded, stratified where classes allow.

    A class with n >= 2 images puts round(fraction * n) of them, at least 1 and at most n - 1,
    into the check part, so it is in both parts. Classes with a single image are dealt out at
    random until the check part holds round(fraction * N) images (if the larger classes have not
    already filled it). With N >= 2 both parts are non-empty.
    """
    labels = np.asarray(labels)
    n = len(labels)
    if not 0.0 < float(fraction) < 1.0:
        raise ValueError("check fraction must lie strictly between 0 and 1, got {!r}".format(fraction))
    if n < 2:
        raise ValueError(
            "{} clean validation image(s): too few to split into tuning and check " "parts".format(n)
        )
    rng = np.random.RandomState(seed)
    check, singles = [], []
    for label in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == label))
        if len(idx) == 1:
            singles.append(int(idx[0]))
            continue
        take = int(np.clip(int(round(fraction * len(idx))), 1, len(idx) - 1))
        check.extend(int(i) for i in idx[:take])
    wanted = max(int(round(fraction * n)), 1)
    if len(check) < wanted and singles:
        order = rng.permutation(len(singles))
        check.extend(singles[i] for i in order[: wanted - len(check)])
    if len(check) == n:  # only possible when every image is a single and round() took them all
        check = check[:-1]
    check = np.sort(np.asarray(check, np.int64))
    tuning = np.setdiff1d(np.arange(n, dtype=np.int64), check)
    return tuning, check


def within_budget(base_correct, correct, n, drop_pct):
    """True where at most drop_pct percentage points of the n check images were lost.

    On counts, like the pruning stopping rule (bdeval.pruning.accuracy_drop_reached): with 30
    images and drop 10 %, 3 images may be lost; with 6 images and drop 10 %, none.
    """
    lost = np.asarray(base_correct, np.float64) - np.asarray(correct, np.float64)
    return lost * 100.0 <= float(drop_pct) * n + 1e-9


def select_checkpoint(checkpoints, base_correct, n, drop_pct):
    """Index of the checkpoint a repair hands back, or None when none is within budget.

    checkpoints: dicts with `epoch` and `check_correct` (correct check images), and optionally
    `trigger_rate` (the defender's own estimate of the attack, lower is better: the share of
    check images carrying a reversed trigger that still get its label). Among the checkpoints
    within budget the best has the lowest trigger_rate (when given), then the most correct
    check images, then the later epoch (the longer repair).
    """
    best, best_key = None, None
    for i, cp in enumerate(checkpoints):
        if not within_budget(base_correct, cp["check_correct"], n, drop_pct):
            continue
        rate = cp.get("trigger_rate")
        key = (-(rate if rate is not None else 0.0), cp["check_correct"], cp["epoch"])
        if best_key is None or key > best_key:
            best, best_key = i, key
    return best


def should_stop(check_correct_history, patience):
    """Early stop: the last `patience` epochs were all below the best check count before them."""
    history = list(check_correct_history)
    if patience is None or len(history) <= patience:
        return False
    best_before = max(history[:-patience])
    return all(c < best_before for c in history[-patience:])


def trigger_settled(trigger_rates, patience):
    """Early stop of an unlearning: the reversed trigger's rate fell below the badnet's (epoch 0)
    and has stayed at its lowest for `patience` epochs after first reaching it. Further epochs keep lowering the real attack a
    little but move the net away from the badnet, a loss a small check part cannot see (on the
    real sunglasses net with 6 check images: the check part stayed at 6/6 while clean test
    accuracy fell 13 points from epoch 12 on)."""
    rates = list(trigger_rates)
    if patience is None or len(rates) <= patience:
        return False
    lowest = min(rates)
    return lowest < rates[0] and all(r <= lowest for r in rates[-(patience + 1) :])


def unseen_loss_pct(n):
    """The clean-accuracy loss (points) a repair may cause unseen by n check images: with none of
    them lost, a true loss of 300/n points still goes unnoticed 5 % of the time (rule of three)."""
    return 300.0 / max(int(n), 1)


def small_check_note(n, drop_pct, slack_pct=5.0, what="check images"):
    """A caveat for the row when n images that hold the budget cannot vouch for drop% (give more
    clean images), or None when they can (unseen loss within drop% + slack_pct points)."""
    unseen = unseen_loss_pct(n)
    if unseen <= float(drop_pct) + slack_pct:
        return None
    return (
        "only {} {}: a clean-accuracy loss of up to {:.0f} points can go unseen "
        "(budget {:g} %); give more clean images".format(n, what, unseen, drop_pct)
    )


def join_notes(*notes):
    """The row's `note`: the given notes that are not empty, joined with '; ' (None if none)."""
    return "; ".join(n for n in notes if n) or None


def no_repair_note(best, base_correct, n, drop_pct):
    """The `note` of a repair none of whose checkpoints is within budget."""
    return (
        "{}: best checkpoint {}/{} check images right (epoch {}), the badnet {}/{}, budget "
        "{:g} %; GoodNet = badnet".format(
            NO_REPAIR, best["check_correct"], n, best["epoch"], base_correct, n, drop_pct
        )
    )
