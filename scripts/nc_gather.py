#!/usr/bin/env python
"""Combine the Neural Cleanse results of one badnet: the screening shards and, when given, the
refinement parts. Writes norms.csv (every label: the stage its norm comes from, the norm, the
anomaly index), triggers.npz (the final trigger of every label), nc.json (the verdict) and a PNG
gallery of the flagged triggers next to ordinary ones.

Verdict: with refinement, the median and MAD of the refined reference sample decide (the
screening norms only choose what to refine); without, the paper's MAD over the screening norms.
On scans of over MANY_LABELS labels a label passing the paper's test is flagged only if its
trigger also stands apart: at most 1/--separation the size of the smallest trigger not flagged
(bdeval.neural_cleanse.refine.separated). The others are weak flags, reported but not acted on
(the smallest of 1283 ordinary labels' norms reach indices 2-3.7 there, close together); repairs
read `flagged` only."""

import argparse
import logging
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bdeval import mad  # noqa: E402
from bdeval.cli import add_poisoned_arg  # noqa: E402
from bdeval.errors import InputError, run_cli  # noqa: E402
from bdeval.neural_cleanse import refine as nc_refine, store as nc_store  # noqa: E402
from bdeval.neural_cleanse.gallery import save_gallery  # noqa: E402
from bdeval.neural_cleanse.verdict import describe, target_report  # noqa: E402
from bdeval.outputs import read_json, write_csv, write_json  # noqa: E402
from nc_select import read_screen  # noqa: E402

N_ORDINARY_SHOWN = 3
MANY_LABELS = 100  # above this many scanned labels, flags that do not stand apart are weak
NORMS_COLUMNS = [
    "label",
    "stage",
    "l1_norm",
    "anomaly_index",
    "flagged",
    "weak",
    "log_index",
    "screen_l1",
    "screen_index",
    "steps",
    "attack_success",
    "test_attack_success",
    "restart_l1",
]


def trigger_rows(text):
    """'TRIGGER:FIRST:LAST' -> (trigger, (first, last)): the image rows a known trigger covers."""
    parts = text.split(":")
    if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit() or int(parts[1]) > int(parts[2]):
        raise argparse.ArgumentTypeError("expected TRIGGER:FIRST_ROW:LAST_ROW, got {!r}".format(text))
    return parts[0], (int(parts[1]), int(parts[2]))


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("shards", nargs="+", help="screening shard .npz files of nc_scan_shard.py")
    parser.add_argument("--refined", nargs="*", default=[], help="refinement parts of nc_refine_shard.py")
    parser.add_argument("--plan", help="refine.json of nc_select.py (with --refined)")
    parser.add_argument("--badnet", required=True)
    parser.add_argument("--n-classes", type=int, required=True, help="labels the scan covers (0..N-1)")
    parser.add_argument("--model-classes", type=int, help="the badnet's classes, if more were not scanned")
    add_poisoned_arg(parser, "known triggers (reported, not used)")
    parser.add_argument(
        "--clean-control",
        action="store_true",
        help="a net with no backdoor planted: its poisoned sets' targets are not known targets",
    )
    parser.add_argument(
        "--trigger-rows",
        type=trigger_rows,
        action="append",
        default=[],
        metavar="TRIGGER:FIRST:LAST",
        help="image rows a known trigger covers",
    )
    parser.add_argument("--threshold", type=float, default=mad.DEFAULT_THRESHOLD)
    parser.add_argument(
        "--near", type=float, default=1.5, help="indices from here to the threshold are reported as undecided"
    )
    parser.add_argument(
        "--separation",
        type=float,
        default=2.0,
        help="on scans of over {} labels, a label passing the threshold is flagged only if its "
        "trigger is at most 1/SEPARATION the size of the smallest trigger not flagged; the others "
        "are weak flags, reported but not acted on".format(MANY_LABELS),
    )
    parser.add_argument("--out-csv", required=True)
    parser.add_argument("--out-npz", required=True)
    parser.add_argument("--out-json", required=True)
    parser.add_argument("--out-png", required=True)
    return parser.parse_args(argv)


def read_refined(paths, plan_path):
    """{label: refined result} and the plan; checks that the parts cover the plan's labels."""
    if not plan_path or not os.path.exists(plan_path):
        raise InputError(plan_path or "--plan", "no refinement plan (run nc_select.py first)")
    plan = read_json(plan_path)
    refined, metas = {}, []
    for path in paths:
        if not os.path.exists(path):
            raise InputError(path, "no such refinement file")
        part, meta = nc_store.load_results(path)
        refined.update((r["label"], r) for r in part)
        metas.append(meta)
    missing = sorted(set(plan["labels"]) - set(refined))
    if missing:
        raise InputError(paths[0], "refinement parts lack labels {} of the plan".format(missing[:10]))
    return refined, plan, metas


def screen_verdict(screen_norms, threshold):
    """The paper's MAD over the screening norms: (index of every label, summary)."""
    index = mad.anomaly_index(screen_norms)
    summary = mad.summarize(range(len(screen_norms)), screen_norms, threshold)
    summary["mad_scale"] = nc_refine.reference_statistic(screen_norms)[1]
    return index, summary


def final_table(screen, refined, plan, screen_index, screen_summary, threshold):
    """Per label: (stage, final result, final index); and the verdict's test dict (the refined
    reference's MAD test, or without refinement the screening's own)."""
    if refined:
        test = nc_refine.test({y: r["l1_norm"] for y, r in refined.items()}, plan["reference"], threshold)
    else:
        test = dict(screen_summary, index={y: float(i) for y, i in enumerate(screen_index)})
    rows = []
    for r in screen:
        y = r["label"]
        if y in refined:
            stage = (
                "refined" if plan["all_labels"] else ("candidate" if y in plan["candidates"] else "reference")
            )
            rows.append((stage, refined[y], test["index"][y]))
        else:
            rows.append(("screen", r, float(screen_index[y])))
    return rows, test


def write_norms(path, screen, rows, screen_index, flagged, weak, logs):
    write_csv(
        path,
        NORMS_COLUMNS,
        [
            [
                r["label"],
                stage,
                "{:.4f}".format(r["l1_norm"]),
                "{:.4f}".format(index),
                int(r["label"] in flagged),
                int(r["label"] in weak),
                "{:.4f}".format(logs[r["label"]]) if r["label"] in logs else "",
                "{:.4f}".format(s["l1_norm"]),
                "{:.4f}".format(screen_index[s["label"]]),
                r["steps"],
                "{:.4f}".format(r["attack_success"]),
                "{:.4f}".format(r["test_attack_success"]) if "test_attack_success" in r else "",
                ";".join("{:.4f}".format(v) for v in r.get("restart_l1", [])),
            ]
            for s, (stage, r, index) in zip(screen, rows)
        ],
    )


def gallery_entries(rows, test, details, flagged):
    chosen = list(test["flagged"])
    ordinary = [
        i
        for i, (stage, _, _) in enumerate(rows)
        if stage in ("reference", "refined", "screen") and i not in chosen
    ]
    norms = np.array([rows[i][1]["l1_norm"] for i in ordinary])
    chosen += [
        ordinary[i] for i in np.argsort(np.abs(norms - test["median_l1"]), kind="stable")[:N_ORDINARY_SHOWN]
    ]
    entries = []
    for label in chosen:
        _, r, index = rows[label]
        kind = ("FLAGGED" if label in flagged else "weak flag") if label in test["flagged"] else "ordinary"
        lines = ["{} {}".format(kind, label), "L1 {:.0f} AI {:.1f}".format(r["l1_norm"], index)]
        extra = details.get(label, {})
        if extra.get("test_attack_success") is not None:
            lines.append("test ASR {:.0%}".format(extra["test_attack_success"]))
        for trigger, overlap in sorted(extra.get("overlap", {}).items()):
            lines.append("{:.0%} in {} rows".format(overlap, trigger))
        entries.append((lines, r["mask"], r["pattern"]))
    return entries


def flagged_details(rows, test, args):
    """Per label above the paper's threshold (flagged or weak): norm, index, the trigger's attack success on clean test images, and the
    share of its mask inside each known trigger's rows (for triggers aimed at that label)."""
    rows_of = dict(args.trigger_rows)
    details = {}
    for label in test["flagged"]:
        _, r, index = rows[label]
        overlap = {
            name: nc_refine.mask_overlap(r["mask"], rows_of[name])
            for name, target, _ in args.poisoned
            if target == label and name in rows_of
        }
        asr = r.get("test_attack_success")
        details[label] = {
            "l1_norm": r["l1_norm"],
            "anomaly_index": index,
            "overlap": overlap,
            "test_attack_success": None if asr is None or np.isnan(asr) else asr,
        }
    return details


def near_threshold(rows, test, args, refined):
    """Below-median labels whose final index lies in (near, threshold]: undecided, largest first."""
    near = [
        y
        for y, (stage, r, index) in enumerate(rows)
        if (stage != "screen" or not refined)
        and args.near < index <= args.threshold
        and r["l1_norm"] < test["median_l1"]
    ]
    return sorted(near, key=lambda y: -rows[y][2])


def main(argv=None):
    args = parse_args(argv)
    screen, meta = read_screen(args.shards, args.n_classes)
    refined, plan, metas = read_refined(args.refined, args.plan) if args.refined else ({}, None, [])
    screen_norms = np.array([r["l1_norm"] for r in screen])
    screen_index, screen_summary = screen_verdict(screen_norms, args.threshold)
    rows, test = final_table(screen, refined, plan, screen_index, screen_summary, args.threshold)
    details = flagged_details(rows, test, args)
    logs = (
        nc_refine.log_index({y: r["l1_norm"] for y, r in refined.items()}, plan["reference"])
        if refined
        else {}
    )
    for label, extra in details.items():
        extra["log_index"] = logs.get(label)
    targets = [] if args.clean_control else sorted({t for _, t, _ in args.poisoned})
    extra = {"clean_control": True} if args.clean_control else {}
    confident = list(test["flagged"])
    if args.n_classes > MANY_LABELS:
        final = {r["label"]: r["l1_norm"] for stage, r, _ in rows if stage != "screen" or not refined}
        confident = nc_refine.separated(test["flagged"], final, args.separation)
        confident = [y for y in test["flagged"] if y in confident]  # largest index first
    summary = {
        "badnet": args.badnet,
        "n_classes": args.model_classes or args.n_classes,
        "labels_scanned": args.n_classes,
        "threshold": args.threshold,
        "method": "screen+refine" if refined else "screen",
        "flagged": confident,
        "weak": [y for y in test["flagged"] if y not in confident],
        "paper_flagged": test["flagged"],
        "anomaly_index": {str(y): test["index"][y] for y in test["flagged"]},
        "separation": args.separation if args.n_classes > MANY_LABELS else None,
        "median_l1": test["median_l1"],
        "mad_scale": test["mad_scale"],
        "max_anomaly_index": test["max_anomaly_index"],
        "near_threshold": near_threshold(rows, test, args, bool(refined)),
        "flagged_details": {str(y): d for y, d in details.items()},
        "known_targets": targets,
        "missed_targets": [t for t in targets if t not in confident],
        "targets": target_report(targets, rows, screen_norms, screen_index, test["median_l1"], logs),
        "screen": {
            "flagged": screen_summary["flagged"],
            "median_l1": screen_summary["median_l1"],
            "max_anomaly_index": screen_summary["max_anomaly_index"],
            "anomaly_index": {str(k): v for k, v in screen_summary["anomaly_index"].items()},
        },
        "schedule": meta["schedule"],
        "settings": meta["settings"],
        "seed": meta["seed"],
        "screen_fingerprint": meta["fingerprint"],
        "refine": (
            {
                "candidates": plan["candidates"],
                "reference": plan["reference"],
                "all_labels": plan["all_labels"],
                "settings": metas[0]["settings"],
                "restarts": metas[0].get("restarts", 1),
            }
            if refined
            else None
        ),
        "failed_labels": [rows[y][1]["label"] for y in range(len(rows)) if not rows[y][1]["success"]],
    }
    summary.update(extra)
    summary["verdict"] = describe(summary)
    logging.info("%s: %s", args.badnet, summary["verdict"])
    if summary["missed_targets"]:
        logging.warning("%s: known target(s) %s not flagged", args.badnet, summary["missed_targets"])
    write_norms(args.out_csv, screen, rows, screen_index, set(confident), set(summary["weak"]), logs)
    nc_store.save_results(args.out_npz, [r for _, r, _ in rows], dict(meta, method=summary["method"]))
    save_gallery(
        args.out_png,
        gallery_entries(rows, test, details, confident),
        "{}: Neural Cleanse triggers (top: mask, bottom: mask x pattern)".format(args.badnet),
    )
    write_json(args.out_json, summary)
    return 0


if __name__ == "__main__":
    run_cli(main)
