#!/usr/bin/env python
"""Plots of one badnet's pruning: clean accuracy and ASR against the fraction of conv_3 channels
pruned, and the mean pool_3 activation maps on clean versus poisoned inputs."""

import argparse
import logging
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from bdeval.errors import run_cli  # noqa: E402
from bdeval.outputs import atomic_path, read_json  # noqa: E402
from bdeval.pruning_store import load_activation_maps, load_curve  # noqa: E402


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--badnet", required=True, help="name for the titles")
    parser.add_argument("--curve", required=True, help="curve.csv of prune_badnet.py")
    parser.add_argument("--maps", required=True, help="activation_maps.npz of prune_badnet.py")
    parser.add_argument(
        "--summary",
        default=None,
        help="pruning.json of prune_badnet.py " "(marks the chosen count of each drop%%)",
    )
    parser.add_argument("--out-curve", required=True, help="PNG")
    parser.add_argument("--out-maps", required=True, help="PNG")
    return parser.parse_args(argv)


def mosaic(maps, order, columns=10):
    """(H, W, C) channel maps -> one 2-D image, channels in `order`, one pixel gap between tiles."""
    height, width, n = maps.shape
    rows = int(np.ceil(n / float(columns)))
    image = np.full((rows * (height + 1) - 1, columns * (width + 1) - 1), np.nan)
    for i, channel in enumerate(order):
        r, c = divmod(i, columns)
        image[r * (height + 1) : r * (height + 1) + height, c * (width + 1) : c * (width + 1) + width] = maps[
            :, :, channel
        ]
    return image


def save_figure(fig, path):
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")


def plot_curve(plt, badnet, curve, drops, path):
    fig, ax = plt.subplots(figsize=(7, 4.2))
    x = 100 * curve["fraction_pruned"]
    ax.plot(x, 100 * curve["clean_acc_valid"], color="black", lw=2, label="clean accuracy (validation)")
    for column in sorted(c for c in curve if c.startswith("asr:")):
        ax.plot(x, 100 * curve[column], lw=1.5, label="ASR " + column.split(":", 1)[1])
    n_channels = len(x) - 1
    for label, info in sorted(drops.items(), key=lambda item: float(item[0])):
        xk = 100.0 * info["channels_pruned"] / n_channels
        ax.axvline(xk, color="grey", lw=0.8, ls="--")
        ax.text(xk, 101, "{}%".format(label), rotation=90, va="bottom", ha="center", fontsize=8)
    ax.set_xlabel("conv_3 channels pruned (%)")
    ax.set_ylabel("%")
    ax.set_ylim(-2, 112)
    ax.set_xlim(0, 100)
    ax.set_title("{}: pruning by mean clean activation".format(badnet), pad=24)
    ax.legend(loc="lower left", fontsize=8)
    ax.grid(alpha=0.3)
    save_figure(fig, path)
    plt.close(fig)


def plot_maps(plt, badnet, maps, path):
    order = maps["order"]
    names = ["clean"] + sorted(k for k in maps if k.startswith("poisoned_"))
    vmax = max(float(np.max(maps[k])) for k in names) or 1.0
    fig, axes = plt.subplots(
        len(names),
        2,
        figsize=(11, 2.6 * len(names) + 0.6),
        squeeze=False,
        gridspec_kw={"width_ratios": [1.1, 1.4]},
    )
    clean_mean = maps["clean"].mean(axis=(0, 1))[order]
    for row, name in enumerate(names):
        title = "clean validation" if name == "clean" else name.replace("poisoned_", "poisoned: ")
        image = axes[row, 0].imshow(
            mosaic(maps[name], order), cmap="viridis", vmin=0, vmax=vmax, interpolation="nearest"
        )
        axes[row, 0].set_title("{} (5x4 maps, pruning order row by row)".format(title), fontsize=9)
        axes[row, 0].axis("off")
        fig.colorbar(image, ax=axes[row, 0], fraction=0.03)
        ax = axes[row, 1]
        ax.bar(np.arange(len(order)), clean_mean, color="lightgrey", label="clean")
        if name != "clean":
            ax.plot(
                np.arange(len(order)),
                maps[name].mean(axis=(0, 1))[order],
                ".-",
                color="crimson",
                lw=1,
                label=title,
            )
        ax.set_xlabel("rank in pruning order (pruned first on the left)", fontsize=8)
        ax.set_ylabel("mean pool_3 activation", fontsize=8)
        ax.legend(fontsize=8, loc="upper left")
    fig.suptitle("{}: mean pool_3 activations, clean vs poisoned".format(badnet))
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def main(argv=None):
    args = parse_args(argv)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curve = load_curve(args.curve)
    maps = load_activation_maps(args.maps)
    drops = read_json(args.summary)["drops"] if args.summary else {}
    plot_curve(plt, args.badnet, curve, drops, args.out_curve)
    plot_maps(plt, args.badnet, maps, args.out_maps)
    logging.info("wrote %s and %s", args.out_curve, args.out_maps)
    return 0


if __name__ == "__main__":
    run_cli(main)
