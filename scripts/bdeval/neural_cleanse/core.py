"""Neural Cleanse trigger reverse-engineering for many labels at once (NumPy side).

For label y: mask m (H x W) and pattern p (H x W x 3) in [0, 1], tanh-parametrized, such that
f((1 - m) * x + m * p) = y on clean images while |m|_1 stays small; loss = CE + lambda * |m|_1.
The masks and patterns of a batch of labels are one tensor; gradients come from
bdeval.neural_cleanse.tf_loss.TriggerLoss, Adam and the lambda schedule run here in NumPy (this
module imports no TensorFlow), so both TF stacks optimize identically. Every label has its own seeded initialization and image pool, so its
result does not depend on which labels share its batch.

Schedules (one "epoch" = one pass over the label's image pool in mini-batches):
  original: Wang et al.'s defaults: lambda 0 until the attack succeeds (>= 0.99) for 5 epochs,
            then 1e-3, x2 after 5 successful epochs, / 2^1.5 after 5 failing ones; Adam lr 0.1,
            betas (0.5, 0.9); mini-batches of 32; early stop after 25 epochs without a better
            mask once lambda went both up and down; at most 1000 epochs.
  default:  the screening budget for full 1283-label scans on CPU (about 800 image-steps per
            label): a pool of up to 64 images in mini-batches of 10, lambda 1e-2 from the first
            step (no lambda-0 phase), patience 3 epochs, Adam lr 0.2, early stop after 6
            epochs without a 1 % smaller mask, at most 40 epochs (80 steps).
  refine:   the careful second stage for a few labels (candidates and a reference sample):
            the original's optimizer, lambda schedule and early stop, mini-batches of 32 from a
            pool of up to 64 images, epochs of 2 steps, at most 400 epochs (800 steps).
"""

import logging
import math

import numpy as np

from .. import INPUT_SHAPE
from . import augment

EPSILON = 1e-7  # Keras' epsilon, as in the original tanh mapping

SCHEDULES = {
    "original": {
        "images_per_label": 1000,
        "mini_batch": 32,
        "epoch_steps": None,
        "epochs": 1000,
        "learning_rate": 0.1,
        "beta_1": 0.5,
        "beta_2": 0.9,
        "init_cost": 1e-3,
        "cost_up": 2.0,
        "cost_down": 2.0**1.5,
        "patience": 5,
        "attack_success": 0.99,
        "lambda_start": "after_success",
        "early_stop_threshold": 1.0,
        "early_stop_patience": 25,
        "early_stop_needs_up_down": True,
        "early_stop_counts_failures": True,
        "mask_init_max": 1.0,
        "augment_flip": False,
        "augment_shift": 0,
    },
    "default": {
        "images_per_label": 64,
        "mini_batch": 10,
        "epoch_steps": 2,
        "epochs": 40,
        "learning_rate": 0.2,
        "beta_1": 0.5,
        "beta_2": 0.9,
        "init_cost": 1e-2,
        "cost_up": 2.0,
        "cost_down": 2.0**1.5,
        "patience": 3,
        "attack_success": 0.99,
        "lambda_start": "immediate",
        "early_stop_threshold": 0.99,
        "early_stop_patience": 6,
        "early_stop_needs_up_down": False,
        "early_stop_counts_failures": False,
        "mask_init_max": 1.0,
        "augment_flip": True,
        "augment_shift": 2,
    },
}
SCHEDULES["refine"] = dict(
    SCHEDULES["original"], images_per_label=64, epoch_steps=2, epochs=400, augment_flip=True, augment_shift=2
)
ADAM_EPSILON = 1e-7
MB_PER_IMAGE_STEP = 1.0  # forward + backward working memory of one DeepID image, roughly


def unit_tanh(w):
    """[-inf, inf] -> (0, 1), the original's tanh(w) / (2 - eps) + 0.5 (NumPy)."""
    return np.tanh(w) / (2 - EPSILON) + 0.5


def atanh_unit(v):
    """Inverse of unit_tanh, clipped away from 0 and 1 (NumPy)."""
    v = np.clip(np.asarray(v, np.float64), 1e-4, 1 - 1e-4)
    return np.arctanh((v - 0.5) * (2 - EPSILON)).astype(np.float32)


def settings_for(schedule, overrides=None):
    """The schedule's settings with every non-None override applied."""
    if schedule not in SCHEDULES:
        raise ValueError("unknown schedule {!r}; use one of {}".format(schedule, sorted(SCHEDULES)))
    settings = dict(SCHEDULES[schedule])
    for key, value in (overrides or {}).items():
        if value is not None:
            if key not in settings:
                raise ValueError("unknown Neural Cleanse setting {!r}".format(key))
            settings[key] = value
    return settings


def label_batch_size(settings, memory_mb, n_labels):
    """Labels per tensor so that one step's images fit in memory_mb."""
    per_label = settings["mini_batch"] * MB_PER_IMAGE_STEP
    return int(max(1, min(n_labels, memory_mb // per_label)))


def pool_size(settings, y_clean):
    """Images per label: the configured count, at most the clean images of other classes."""
    largest = np.bincount(np.asarray(y_clean)).max()
    return int(min(settings["images_per_label"], len(y_clean) - largest))


def label_rng(seed, label):
    return np.random.RandomState([int(seed) % (2**32), int(label)])


def init_label(seed, label, y_clean, n_pool, mask_init_max=1.0):
    """Seeded per-label start: image pool (not of class `label`), random mask and pattern."""
    rng = label_rng(seed, label)
    others = np.flatnonzero(np.asarray(y_clean) != label)
    pool = np.sort(rng.choice(others, n_pool, replace=False))
    h, w, c = INPUT_SHAPE
    mask_w = atanh_unit(rng.uniform(high=mask_init_max, size=(h, w, 1)))
    pattern_w = atanh_unit(rng.uniform(size=(h, w, c)))
    return pool, mask_w, pattern_w, rng


class _Stream(object):
    """Endless shuffled passes over one label's image pool."""

    def __init__(self, pool, rng):
        self.pool, self.rng, self.queue = pool, rng, np.zeros(0, int)

    def take(self, n):
        while len(self.queue) < n:
            self.queue = np.concatenate([self.queue, self.pool[self.rng.permutation(len(self.pool))]])
        taken, self.queue = self.queue[:n], self.queue[n:]
        return taken


class _Adam(object):
    def __init__(self, shape, settings):
        self.m, self.v = np.zeros(shape, np.float32), np.zeros(shape, np.float32)
        self.lr, self.b1, self.b2 = settings["learning_rate"], settings["beta_1"], settings["beta_2"]
        self.t = 0

    def step(self, params, grads, rows):
        """Update params[rows] in place with grads (aligned with rows)."""
        self.t += 1
        m = self.b1 * self.m[rows] + (1 - self.b1) * grads
        v = self.b2 * self.v[rows] + (1 - self.b2) * grads * grads
        self.m[rows], self.v[rows] = m, v
        lr_t = self.lr * math.sqrt(1 - self.b2**self.t) / (1 - self.b1**self.t)
        params[rows] -= lr_t * m / (np.sqrt(v) + ADAM_EPSILON)


class _Schedule(object):
    """The adaptive lambda and early stop of one label (the original's bookkeeping)."""

    def __init__(self, settings):
        self.s = settings
        self.cost = settings["init_cost"] if settings["lambda_start"] == "immediate" else 0.0
        self.set_counter = self.up_counter = self.down_counter = self.stop_counter = 0
        self.up_flag = self.down_flag = False
        self.reg_best = self.stop_reg_best = float("inf")

    def end_epoch(self, acc, reg):
        """Record one epoch; returns (save this mask as the best, stop now)."""
        s, success = self.s, acc >= self.s["attack_success"]
        better = success and reg < self.reg_best
        if better:
            self.reg_best = reg
        if self.reg_best < float("inf") and (success or s["early_stop_counts_failures"]):
            improved = self.reg_best < s["early_stop_threshold"] * self.stop_reg_best
            self.stop_counter = 0 if improved else self.stop_counter + 1
        self.stop_reg_best = min(self.reg_best, self.stop_reg_best)
        flags = (self.up_flag and self.down_flag) or not s["early_stop_needs_up_down"]
        stop = flags and self.stop_counter >= s["early_stop_patience"]
        if self.cost == 0 and success:
            self.set_counter += 1
            if self.set_counter >= s["patience"]:
                self.cost = s["init_cost"]
                self.up_counter = self.down_counter = 0
                self.up_flag = self.down_flag = False
        else:
            self.set_counter = 0
        self.up_counter, self.down_counter = (
            (self.up_counter + 1, 0) if success else (0, self.down_counter + 1)
        )
        if self.up_counter >= s["patience"]:
            self.up_counter, self.up_flag = 0, True
            self.cost *= s["cost_up"]
        elif self.down_counter >= s["patience"]:
            self.down_counter, self.down_flag = 0, True
            self.cost /= s["cost_down"]
        return better, stop


def reverse_engineer(loss, x_clean, y_clean, labels, settings, seed, on_done=None, starts=None):
    """Optimize the triggers of `labels` together; x_clean: scaled clean images.

    starts: optional {label: (mask (H, W), pattern (H, W, 3))} in [0, 1], a warm start (the
    screening trigger) instead of the seeded random one; the image pool stays seeded.
    Returns one result dict per label (label order); on_done(result) is called as each label
    finishes. Result: label, mask (H, W), pattern (H, W, 3), l1_norm, attack_success (on the
    epoch of the kept mask), success (reached the threshold), steps, epochs, lambda.
    """
    labels = [int(y) for y in labels]
    n_pool = pool_size(settings, y_clean)
    views = augment.Views(x_clean, settings["augment_flip"], settings["augment_shift"])
    inits = [init_label(seed, y, y_clean, n_pool, settings["mask_init_max"]) for y in labels]
    pools = np.stack([augment.expand(s[0], views.n_variants) for s in inits])
    n_pool = pools.shape[1]
    mask_w = np.stack([s[1] for s in inits])
    pattern_w = np.stack([s[2] for s in inits])
    rngs = [s[3] for s in inits]
    for i, y in enumerate(labels):
        if starts is not None and y in starts:
            mask_w[i] = atanh_unit(np.asarray(starts[y][0])[:, :, None])
            pattern_w[i] = atanh_unit(starts[y][1])
    opt_mask, opt_pattern = _Adam(mask_w.shape, settings), _Adam(pattern_w.shape, settings)
    schedules = [_Schedule(settings) for _ in labels]
    best = [None] * len(labels)
    results = [None] * len(labels)
    active = np.arange(len(labels))
    targets = np.asarray(labels, np.int32)
    batch = min(int(settings["mini_batch"]), n_pool)
    n_batches = int(settings["epoch_steps"] or math.ceil(n_pool / float(batch)))
    streams = [_Stream(pools[i], rngs[i]) for i in range(len(labels))]
    epoch = 0
    while len(active):
        epoch += 1
        if settings["epoch_steps"]:
            order = np.stack([streams[i].take(n_batches * batch) for i in active])
        else:  # one pass over the pool
            order = np.stack([pools[i][rngs[i].permutation(n_pool)] for i in active])
        acc_sum, reg_sum = np.zeros(len(active)), np.zeros(len(active))
        for k in range(n_batches):
            idx = order[:, k * batch : (k + 1) * batch]
            lam = np.asarray([schedules[i].cost for i in active], np.float32)
            out = loss(mask_w[active], pattern_w[active], views(idx), targets[active], lam)
            opt_mask.step(mask_w, out["grad_mask"], active)
            opt_pattern.step(pattern_w, out["grad_pattern"], active)
            acc_sum += out["acc"]
            reg_sum += out["reg"]
        finished = []
        for j, i in enumerate(active):
            acc, reg = acc_sum[j] / n_batches, reg_sum[j] / n_batches
            better, stop = schedules[i].end_epoch(acc, reg)
            if better or schedules[i].reg_best == float("inf"):
                best[i] = (unit_tanh(mask_w[i, :, :, 0]), unit_tanh(pattern_w[i]), acc, better)
            if stop or epoch >= settings["epochs"]:
                finished.append(i)
                results[i] = _result(labels[i], best[i], epoch, n_batches, schedules[i].cost)
                logging.info(
                    "label %d: L1 %.1f, attack success %.2f, %d steps",
                    labels[i],
                    results[i]["l1_norm"],
                    results[i]["attack_success"],
                    results[i]["steps"],
                )
                if on_done is not None:
                    on_done(results[i])
        active = np.asarray([i for i in active if i not in finished], dtype=int)
    return results


def _result(label, best, epochs, n_batches, cost):
    mask, pattern, acc, success = best
    return {
        "label": label,
        "mask": mask.astype(np.float32),
        "pattern": pattern.astype(np.float32),
        "l1_norm": float(np.sum(np.abs(mask))),
        "attack_success": float(acc),
        "success": bool(success),
        "steps": int(epochs * n_batches),
        "epochs": int(epochs),
        "lambda": float(cost),
    }
