#!/usr/bin/env python
"""Combine the Neural Cleanse shards of one badnet: norms.csv with MAD anomaly indices,
all masks and patterns, a summary JSON, and a PNG gallery of flagged and median triggers."""
import argparse
import csv
import logging
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bdeval import mad, nc_store  # noqa: E402
from bdeval.cli import poisoned_set  # noqa: E402
from bdeval.errors import InputError, run_cli  # noqa: E402
from bdeval.nc_gallery import save_gallery  # noqa: E402
from bdeval.outputs import atomic_path, write_json  # noqa: E402

N_MEDIAN_LABELS = 3


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("shards", nargs="+", help="shard .npz files of nc_scan_shard.py")
    parser.add_argument("--badnet", required=True)
    parser.add_argument("--n-classes", type=int, required=True)
    parser.add_argument("--poisoned", type=poisoned_set, action="append", default=[],
                        metavar="TRIGGER:TARGET:FILE", help="known triggers (reported, not used)")
    parser.add_argument("--threshold", type=float, default=mad.DEFAULT_THRESHOLD)
    parser.add_argument("--out-csv", required=True)
    parser.add_argument("--out-npz", required=True)
    parser.add_argument("--out-json", required=True)
    parser.add_argument("--out-png", required=True)
    return parser.parse_args(argv)


def read_shards(paths, n_classes):
    results, metas = [], []
    for path in paths:
        if not os.path.exists(path):
            raise InputError(path, "no such shard file")
        shard, meta = nc_store.load_results(path)
        results += shard
        metas.append(meta)
    labels = sorted(r["label"] for r in results)
    if labels != list(range(n_classes)):
        missing = sorted(set(range(n_classes)) - set(labels))
        raise InputError(paths[0], "shards cover {} labels, expected 0..{} (missing {})".format(
            len(labels), n_classes - 1, missing[:10]))
    if len({m["fingerprint"] for m in metas}) != 1:
        raise InputError(paths[0], "shards come from different settings, seeds or files")
    return sorted(results, key=lambda r: r["label"]), metas


def write_norms(path, results, index, flags):
    with atomic_path(path) as tmp:
        with open(tmp, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["label", "l1_norm", "anomaly_index", "flagged", "steps", "attack_success"])
            for r, a, f in zip(results, index, flags):
                writer.writerow([r["label"], "{:.4f}".format(r["l1_norm"]), "{:.4f}".format(a), int(f),
                                 r["steps"], "{:.4f}".format(r["attack_success"])])


def gallery_entries(results, norms, index, summary):
    chosen = list(summary["flagged"])
    by_distance = np.argsort(np.abs(norms - np.median(norms)), kind="stable")
    chosen += [results[i]["label"] for i in by_distance[:N_MEDIAN_LABELS]]
    entries = []
    for label in chosen:
        r = results[label]
        kind = "flagged" if label in summary["flagged"] else "median"
        lines = ["{} {}".format(kind, label), "L1 {:.0f} AI {:.1f}".format(r["l1_norm"], index[label])]
        entries.append((lines, r["mask"], r["pattern"]))
    return entries


def main(argv=None):
    args = parse_args(argv)
    results, metas = read_shards(args.shards, args.n_classes)
    norms = np.array([r["l1_norm"] for r in results])
    index = mad.anomaly_index(norms)
    flags = mad.flagged(norms, args.threshold)
    summary = mad.summarize(range(args.n_classes), norms, args.threshold)
    targets = sorted({t for _, t, _ in args.poisoned})
    summary.update({
        "badnet": args.badnet, "n_classes": args.n_classes, "known_targets": targets,
        "missed_targets": [t for t in targets if t not in summary["flagged"]],
        "schedule": metas[0]["schedule"], "settings": metas[0]["settings"], "seed": metas[0]["seed"],
        "scan_seconds": sum(m["seconds"] for m in metas), "n_shards": len(metas),
        "failed_labels": [r["label"] for r in results if not r["success"]],
        "anomaly_index": {str(k): v for k, v in summary["anomaly_index"].items()},
    })
    logging.info("%s: median L1 %.1f, flagged %s (anomaly indices %s), max index %.2f",
                 args.badnet, summary["median_l1"], summary["flagged"] or "nothing",
                 summary["anomaly_index"], summary["max_anomaly_index"])
    if summary["missed_targets"]:
        logging.warning("%s: known target(s) %s not flagged", args.badnet, summary["missed_targets"])
    write_norms(args.out_csv, results, index, flags)
    nc_store.save_results(args.out_npz, results, dict(metas[0], seconds=summary["scan_seconds"]))
    save_gallery(args.out_png, gallery_entries(results, norms, index, summary),
                 "{}: Neural Cleanse triggers (top: mask, bottom: mask x pattern)".format(args.badnet))
    write_json(args.out_json, summary)
    return 0


if __name__ == "__main__":
    run_cli(main)
