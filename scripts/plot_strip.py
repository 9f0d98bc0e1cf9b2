#!/usr/bin/env python
"""STRIP plots of one badnet: entropy histograms (clean vs each poisoned set) with the drop%
thresholds, and FAR / FRR against the threshold."""

import argparse
import logging
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from bdeval import strip  # noqa: E402
from bdeval.drops import drop_pct  # noqa: E402
from bdeval.errors import run_cli  # noqa: E402
from bdeval.outputs import atomic_path  # noqa: E402
from bdeval.strip_store import load_entropies  # noqa: E402


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entropies", required=True, help="strip_entropy.py output (.npz)")
    parser.add_argument("--drops", type=drop_pct, nargs="+", required=True, help="drop%% values to mark")
    parser.add_argument("--method", default="percentile", choices=strip.THRESHOLD_METHODS)
    parser.add_argument("--out-hist", required=True, help="entropy histograms (.png)")
    parser.add_argument("--out-rates", required=True, help="FAR and FRR vs threshold (.png)")
    return parser.parse_args(argv)


def save(fig, path):
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    plt.close(fig)


def mark_thresholds(ax, thresholds):
    for drop, t in thresholds:
        ax.axvline(t, color="black", lw=0.8, ls="--")
        ax.text(
            t,
            0.98,
            " {:g} %".format(drop),
            transform=ax.get_xaxis_transform(),
            fontsize=7,
            va="top",
            rotation=90,
        )


def histograms(meta, sets, thresholds, method, path):
    triggers = [p["trigger"] for p in meta["poisoned"]]
    panels = triggers or [None]
    fig, axes = plt.subplots(len(panels), 1, figsize=(7, 2.8 * len(panels)), squeeze=False)
    everything = np.concatenate([s["entropy"] for s in sets.values()])
    bins = np.linspace(float(everything.min()), float(everything.max()) + 1e-9, 41)
    for ax, trigger in zip(axes[:, 0], panels):
        ax.hist(
            sets["clean_validation"]["entropy"], bins=bins, alpha=0.45, density=True, label="clean validation"
        )
        ax.hist(
            sets["clean_test"]["entropy"],
            bins=bins,
            histtype="step",
            lw=1.5,
            density=True,
            label="clean test",
        )
        if trigger is not None:
            ax.hist(
                sets["poisoned_" + trigger]["entropy"],
                bins=bins,
                alpha=0.55,
                density=True,
                color="tab:red",
                label="poisoned: {}".format(trigger),
            )
        mark_thresholds(ax, thresholds)
        ax.set_ylabel("density")
        ax.legend(fontsize=8, loc="upper right")
    axes[-1, 0].set_xlabel(
        "mean entropy of {} blends ({} rule), bits".format(meta["n_blends"], meta["blend"])
    )
    axes[0, 0].set_title("STRIP entropies of {} ({} thresholds)".format(meta["badnet"], method))
    save(fig, path)


def rates(meta, sets, thresholds, path):
    everything = np.concatenate([s["entropy"] for s in sets.values()])
    grid = np.linspace(float(everything.min()), float(everything.max()) + 1e-6, 400)
    poisoned = {p["trigger"]: sets["poisoned_" + p["trigger"]]["entropy"] for p in meta["poisoned"]}
    curves = strip.rate_curves(sets["clean_validation"]["entropy"], poisoned, grid)
    test_frr = strip.rate_curves(sets["clean_test"]["entropy"], {}, grid)["frr"]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(grid, 100 * curves["frr"], lw=2, label="FRR clean validation")
    ax.plot(grid, 100 * test_frr, lw=1.5, ls=":", label="FRR clean test")
    for trigger, far in sorted(curves["far"].items()):
        ax.plot(grid, 100 * far, lw=1.5, label="FAR {}".format(trigger))
    mark_thresholds(ax, thresholds)
    ax.set_xlabel("entropy threshold (bits): inputs below it are flagged as poisoned")
    ax.set_ylabel("rate (%)")
    ax.set_ylim(-2, 102)
    ax.set_title("STRIP on {}: FAR and FRR against the threshold".format(meta["badnet"]))
    ax.legend(fontsize=8)
    save(fig, path)


def main(argv=None):
    args = parse_args(argv)
    meta, sets = load_entropies(args.entropies)
    thresholds = [
        (d, strip.threshold(sets["clean_validation"]["entropy"], d, args.method)) for d in args.drops
    ]
    histograms(meta, sets, thresholds, args.method, args.out_hist)
    rates(meta, sets, thresholds, args.out_rates)
    logging.info("%s: wrote %s and %s", meta["badnet"], args.out_hist, args.out_rates)
    return 0


if __name__ == "__main__":
    run_cli(main)
