"""The resumable loop of a Neural Cleanse job: labels in batches, each finished label saved."""

import collections
import logging
import time

from . import core, store


def add_job_args(parser, schedule, schedules):
    """Arguments every Neural Cleanse optimization job takes (scan shard, refinement part)."""
    parser.add_argument("--schedule", default=schedule, choices=sorted(schedules))
    parser.add_argument("--settings", default="{}", help="JSON overrides of the schedule's settings")
    parser.add_argument("--memory-mb", type=float, default=4096, help="memory per batch of labels (MB)")
    parser.add_argument("--progress-dir", required=True, help="per-label results (resume)")


def save_job(args, results, settings, fprint, began, stack, what="labels", **extra):
    """Write a scan or refinement job's results (args.out) with the meta every such job records
    (its arguments, settings, fingerprint, seconds, TF stack, and `extra`); log the count."""
    meta = dict(
        extra,
        badnet=args.badnet,
        schedule=args.schedule,
        settings=settings,
        seed=args.seed,
        fingerprint=fprint,
        seconds=time.time() - began,
        stack=stack,
    )
    store.save_results(args.out, results, meta)
    logging.info("%s: %d %s written to %s", args.badnet, len(results), what, args.out)


# What a job optimizes: the loss of its model, the scaled clean images and labels, the schedule's
# settings, labels per batch and the errors that mean out-of-memory (the batch then halves).
Problem = collections.namedtuple("Problem", ["loss", "x", "y", "settings", "label_batch", "oom_errors"])


def scan(problem, labels, seed, progress_dir, fprint, starts=None):
    """Results of `labels`, reusing saved ones; the label batch halves on out-of-memory.

    Batches whose labels are all saved are skipped; a partly saved batch is recomputed whole
    (same labels, same seed: same results). starts: warm starts, as core.reverse_engineer."""
    loss, x, y, settings, label_batch, oom_errors = problem
    results = {}
    start = 0
    while start < len(labels):
        chunk = labels[start : start + label_batch]
        saved = [store.load_label(progress_dir, y_, fprint) for y_ in chunk]
        if all(r is not None for r in saved):
            results.update((r["label"], r) for r in saved)
            logging.info("labels %d-%d: already done", chunk[0], chunk[-1])
            start += len(chunk)
            continue
        logging.info("labels %d-%d: optimizing %d labels together", chunk[0], chunk[-1], len(chunk))
        began = time.time()
        try:
            done = core.reverse_engineer(
                loss,
                x,
                y,
                chunk,
                settings,
                seed,
                starts=starts,
                on_done=lambda r: store.save_label(progress_dir, r, fprint),
            )
        except oom_errors:
            if label_batch == 1:
                raise
            label_batch = max(1, label_batch // 2)
            logging.warning("out of memory: %d labels per batch from now on", label_batch)
            continue
        results.update((r["label"], r) for r in done)
        logging.info(
            "labels %d-%d: %.1f s (%.2f s per label)",
            chunk[0],
            chunk[-1],
            time.time() - began,
            (time.time() - began) / len(chunk),
        )
        start += len(chunk)
    return [results[y_] for y_ in labels]
