"""The Neural Cleanse panel of results/overview.png (matplotlib): per badnet, the anomaly index of
every label of its final statistic (flagged labels named, known targets ringed, the threshold
drawn)."""

import math

MAX_NAMED = 6  # flagged labels named per badnet


def nc_points(summary, norms):
    """[(label, signed index, 'flagged' | 'weak' | '')] of the labels of the final statistic: the
    index, positive where the label's trigger is smaller than the median (the side Neural Cleanse
    flags)."""
    refined = summary["method"] != "screen"
    out = []
    for r in norms:
        if refined and r["stage"] == "screen":
            continue
        index = float(r["anomaly_index"])
        sign = 1.0 if float(r["l1_norm"]) < summary["median_l1"] else -1.0
        kind = "flagged" if r["flagged"] == "1" else ("weak" if r.get("weak") == "1" else "")
        out.append((int(r["label"]), sign * index if math.isfinite(index) else 0.0, kind))
    return out


def jitter(label, width=0.28):
    """A fixed horizontal offset per label (no random state: the same figure every run)."""
    return width * (((label * 0.6180339887) % 1.0) * 2 - 1)


def wrapped(name, width=14):
    """A long badnet name over several lines, broken after underscores."""
    lines = [""]
    for part in name.split("_"):
        if lines[-1] and len(lines[-1]) + len(part) + 1 > width:
            lines[-1] += "_"
            lines.append(part)
        else:
            lines[-1] += ("_" if lines[-1] else "") + part
    return "\n".join(lines)


def level(ax, i, y, style, label):
    """A threshold of badnet i's scan: a short horizontal line across its column."""
    ax.plot([i - 0.4, i + 0.4], [y, y], style, color="black", lw=1.2, label=label)


def nc_panel(ax, scans, colour):
    ax.set_title("Neural Cleanse: anomaly index per label")
    ax.set_ylabel("anomaly index (> 0: trigger smaller than the median)")
    ax.grid(alpha=0.3, axis="y")
    named = set()

    def once(name):  # each legend entry once
        if name in named:
            return None
        named.add(name)
        return name

    ticks = []
    for i, (summary, norms) in enumerate(scans):
        pts = nc_points(summary, norms)
        ordinary = [(i + jitter(y), v) for y, v, kind in pts if not kind]
        weak = [(i + jitter(y), v) for y, v, kind in pts if kind == "weak"]
        flagged = sorted(
            ((i + jitter(y), v, y) for y, v, kind in pts if kind == "flagged"), key=lambda p: -p[1]
        )
        if ordinary:
            ax.scatter(*zip(*ordinary), s=12, color=colour, alpha=0.5, lw=0, label=once("label"))
        if weak:
            ax.scatter(
                *zip(*weak),
                s=26,
                facecolor="none",
                edgecolor="grey",
                lw=0.9,
                zorder=3,
                label=once("weak: above the threshold, not standing apart"),
            )
        if flagged:
            ax.scatter(
                [p[0] for p in flagged],
                [p[1] for p in flagged],
                s=42,
                color=colour,
                edgecolor="black",
                lw=0.8,
                zorder=4,
                label=once("flagged label"),
            )
            for x, v, y in flagged[:MAX_NAMED]:
                ax.annotate(str(y), (x, v), textcoords="offset points", xytext=(8, -3), fontsize=8)
            if len(flagged) > MAX_NAMED:
                ax.annotate(
                    "+{} more".format(len(flagged) - MAX_NAMED),
                    (i, flagged[MAX_NAMED][1]),
                    textcoords="offset points",
                    xytext=(10, 0),
                    fontsize=7,
                    color="grey",
                )
        for t in summary["known_targets"]:
            info = summary["targets"].get(str(t), {})
            if not info.get("scanned"):
                continue
            v = info["anomaly_index"] * (1 if info.get("below_median", True) else -1)
            ax.scatter(
                [i + jitter(t)],
                [v],
                s=130,
                facecolor="none",
                edgecolor="black",
                lw=1.2,
                zorder=5,
                label=once("known target"),
            )
            if t not in summary["flagged"]:
                word = "target {} {}{}".format(
                    t,
                    "weak, not flagged" if t in summary.get("weak", []) else "missed",
                    " (screen)" if info.get("stage") == "screen" else "",
                )
                ax.annotate(word, (i + jitter(t), v), textcoords="offset points", xytext=(6, -10), fontsize=7)
        level(ax, i, summary["threshold"], "--", once("threshold"))
        name = wrapped(summary["badnet"])
        if summary["labels_scanned"] < summary["n_classes"]:
            name += "\n(labels 0-{})".format(summary["labels_scanned"] - 1)
        ticks.append(name)
    ax.axhline(0, color="grey", lw=0.6)
    ax.set_xticks(range(len(ticks)))
    ax.set_xticklabels(ticks, fontsize=8)
    ax.set_xlim(-0.6, len(ticks) - 0.4)
    ax.legend(fontsize=7, loc="lower left")
