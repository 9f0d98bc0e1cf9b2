#!/usr/bin/env python
"""results/overview.png: per badnet, clean test accuracy against the largest ASR over its
triggers for each defense over its drop% (one line per defense, the undefended badnet a star),
and, when Neural Cleanse ran, the anomaly index of every label of its final statistic per badnet
(flagged labels named, known targets ringed, the threshold drawn). One colour per defense,
from its place in the defense registry."""

import argparse
import csv
import logging
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bdeval import defenses  # noqa: E402
from bdeval.errors import InputError, run_cli  # noqa: E402
from bdeval.outputs import atomic_path, read_json  # noqa: E402
from bdeval.plot_labels import drop_names, name_point  # noqa: E402
from bdeval.plot_nc import nc_panel  # noqa: E402

PANEL_COLUMNS = 3
HEADER_INCHES = 0.6  # above the panels: the title and the defenses' legend
# Variant drawn per defense: the GoodNet (every defense has one), else the repaired net.
VARIANTS = ("goodnet", "repaired")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--summary", required=True, help="tidy results/summary.csv of summarize.py")
    parser.add_argument("--nc-json", nargs="*", default=[], help="nc.json of each badnet (Neural Cleanse)")
    parser.add_argument("--nc-norms", nargs="*", default=[], help="norms.csv of each badnet, as --nc-json")
    parser.add_argument("--out", required=True, help="PNG")
    args = parser.parse_args(argv)
    if len(args.nc_json) != len(args.nc_norms):
        parser.error("--nc-json and --nc-norms need one file each per badnet")
    return args


def defense_colours():
    """{defense: colour}: tab10 by the defense's place in the registry; the badnet black."""
    palette = ["C{}".format(i) for i in range(10)]
    colours = {name: palette[i % len(palette)] for i, name in enumerate(defenses.names())}
    colours["none"] = "black"
    return colours


def read_csv_rows(path, what, columns):
    try:
        with open(str(path), newline="") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as err:
        raise InputError(path, "unreadable ({})".format(err)) from None
    if rows and not set(columns) <= set(rows[0]):
        raise InputError(path, "not {}: needs columns {}".format(what, ", ".join(columns)))
    return rows


def read_points(path):
    """{badnet: {(defense, drop, variant): {metric: value}}} of the tidy summary (no triggers)."""
    rows = read_csv_rows(
        path, "a tidy summary", ["badnet", "defense", "drop_pct", "variant", "metric", "trigger", "value"]
    )
    points = {}
    for r in rows:
        points.setdefault(r["badnet"], {})
        try:
            value = float(r["value"])
        except ValueError:
            raise InputError(
                path, "not a tidy summary: value {!r} is not a number".format(r["value"])
            ) from None
        if r["trigger"] or not math.isfinite(value):
            continue
        key = (r["defense"], float(r["drop_pct"]) if r["drop_pct"] else None, r["variant"])
        points[r["badnet"]].setdefault(key, {})[r["metric"]] = value
    return points


def curves(points):
    """{defense: [(drop, asr_max %, clean test %)]} by drop%, one variant per defense, and the
    badnet's own (asr, clean) or None. Points without an ASR are left out."""
    lines, own = {}, None
    for variant in reversed(VARIANTS):  # the preferred variant last, so it wins
        chosen = {}
        for (defense, drop, v), metrics in points.items():
            if v == variant and "asr_max" in metrics and "clean_acc_test" in metrics:
                chosen.setdefault(defense, []).append(
                    (drop, 100 * metrics["asr_max"], 100 * metrics["clean_acc_test"])
                )
        lines.update((d, sorted(p)) for d, p in chosen.items())
    for (defense, _, variant), metrics in points.items():
        if defense == "none" and "asr_max" in metrics and "clean_acc_test" in metrics:
            own = (100 * metrics["asr_max"], 100 * metrics["clean_acc_test"])
    return lines, own


def defense_order(name):
    names = defenses.names()
    return (names.index(name) if name in names else len(names), name)


def accuracy_panel(ax, badnet, points, colours):
    lines, own = curves(points)
    ax.set_title(badnet)
    ax.set_xlabel("max ASR over triggers (%)")
    ax.set_ylabel("clean test accuracy (%)")
    ax.grid(alpha=0.3)
    ax.set_xlim(-4, 104)
    if own is None and not lines:
        ax.set_ylim(0, 102)
        ax.text(
            0.5,
            0.5,
            "no poisoned data:\nno ASR to plot",
            transform=ax.transAxes,
            ha="center",
            va="center",
            color="grey",
        )
        return
    lowest = [p[2] for d in lines for p in lines[d]] + ([own[1]] if own else [])
    ax.set_ylim(max(0.0, min(lowest) - 5), 102)
    for defense in sorted((d for d in lines if d != "none"), key=defense_order):
        _, asr, clean = zip(*lines[defense])
        ax.plot(asr, clean, "o-", color=colours.get(defense, "grey"), lw=1.6, ms=5, label=defense, alpha=0.85)
    if own:
        ax.plot([own[0]], [own[1]], "*", color="black", ms=14, label="undefended badnet", zorder=5)
    ax.text(
        0.02, 0.03, "better: upper left; numbers: drop%", transform=ax.transAxes, fontsize=7, color="grey"
    )


def name_drops(ax, points, colours):
    """Each point's drop% beside it (after the figure's layout: positions are in points)."""
    lines, _ = curves(points)
    placed = []
    for defense in sorted((d for d in lines if d != "none"), key=defense_order):
        for text, x, y in drop_names(ax, lines[defense]):
            name_point(ax, text, x, y, colours.get(defense, "grey"), placed)


def read_scans(json_paths, norms_paths):
    scans = []
    for json_path, norms_path in zip(json_paths, norms_paths):
        try:
            summary = read_json(json_path)
        except (OSError, ValueError) as err:
            raise InputError(json_path, "not a Neural Cleanse summary ({})".format(err)) from None
        norms = read_csv_rows(
            norms_path,
            "a Neural Cleanse norms table",
            ["label", "stage", "l1_norm", "anomaly_index", "flagged"],
        )
        scans.append((summary, norms))
    return sorted(scans, key=lambda s: s[0]["badnet"])


def draw(points, scans, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = defense_colours()
    badnets = sorted(points)
    n_panels = len(badnets) + (1 if scans else 0)
    n_cols = n_panels if n_panels <= PANEL_COLUMNS else (2 if n_panels == 4 else PANEL_COLUMNS)
    n_rows = int(math.ceil(n_panels / float(n_cols)))
    height = 4.6 * n_rows + HEADER_INCHES
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(5.4 * n_cols, height), squeeze=False)
    flat = [ax for row in axes for ax in row]
    for ax, badnet in zip(flat, badnets):
        accuracy_panel(ax, badnet, points[badnet], colours)
    if scans:
        nc_panel(flat[len(badnets)], scans, colours["neural_cleanse"])
    for ax in flat[n_panels:]:
        ax.axis("off")
    fig.tight_layout(rect=(0, 0, 1, 1 - HEADER_INCHES / height))  # before the header: it leaves room
    handles = {}
    for ax in flat[: len(badnets)]:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    fig.suptitle("Clean accuracy against attack success, per defense and drop%", y=1 - 0.05 / height)
    if handles:
        fig.legend(
            list(handles.values()),
            list(handles),
            loc="upper center",
            ncol=min(len(handles), 7),
            fontsize=9,
            frameon=False,
            bbox_to_anchor=(0.5, 1 - 0.3 / height),
        )
    for ax, badnet in zip(flat, badnets):
        name_drops(ax, points[badnet], colours)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    plt.close(fig)


def main(argv=None):
    args = parse_args(argv)
    points = read_points(args.summary)
    if not points:
        raise InputError(args.summary, "no result rows to plot")
    scans = read_scans(args.nc_json, args.nc_norms)
    draw(points, scans, args.out)
    logging.info("%d badnet(s)%s -> %s", len(points), " and Neural Cleanse" if scans else "", args.out)
    return 0


if __name__ == "__main__":
    run_cli(main)
