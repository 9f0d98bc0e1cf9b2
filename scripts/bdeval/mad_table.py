"""Neural Cleanse's MAD outcome of each badnet as table cells (plain Python): the lines of
results/mad.csv and the MAD table of the summary's Markdown. `summary` is a badnet's nc.json."""

from .errors import InputError
from .outputs import read_json

COLUMNS = [
    "badnet",
    "n_classes",
    "method",
    "flagged",
    "anomaly_indices",
    "weak",
    "undecided",
    "max_anomaly_index",
    "median_l1",
    "known_targets",
    "target_indices",
    "target_ranks",
    "missed_targets",
    "verdict",
]


def joined(values):
    """'a;b;c', or 'none' for an empty list (never an empty cell that reads as 'nothing missed')."""
    values = [str(v) for v in values]
    return ";".join(values) if values else "none"


def target_cells(summary):
    """'TARGET:INDEX' and 'TARGET:RANK/OF' (rank of its norm among the labels of the final
    statistic; the screening rank among all labels when it was not refined)."""
    indices, ranks = [], []
    for t in summary["known_targets"]:
        info = summary["targets"][str(t)]
        if not info.get("scanned"):
            indices.append("{}:not scanned".format(t))
            ranks.append("{}:not scanned".format(t))
            continue
        indices.append("{}:{:.2f}".format(t, info["anomaly_index"]))
        if info["rank"] is not None:
            ranks.append("{}:{}/{}".format(t, info["rank"], info["of"]))
        else:
            ranks.append("{}:{}/{} (screen)".format(t, info["screen_rank"], summary["labels_scanned"]))
    return joined(indices), joined(ranks)


def row(summary):
    """{column: cell} of one badnet's nc.json, every column of COLUMNS."""
    target_indices, target_ranks = target_cells(summary)
    method = summary["method"]
    if summary["labels_scanned"] < summary["n_classes"]:
        method += " (labels 0-{} only)".format(summary["labels_scanned"] - 1)
    return {
        "badnet": summary["badnet"],
        "n_classes": summary["n_classes"],
        "method": method,
        "flagged": joined(summary["flagged"]),
        "anomaly_indices": joined(
            "{:.2f}".format(summary["anomaly_index"][str(y)]) for y in summary["flagged"]
        ),
        "weak": joined(
            "{}:{:.2f}".format(y, summary["anomaly_index"][str(y)]) for y in summary.get("weak", [])
        ),
        "undecided": joined(summary["near_threshold"]),
        "max_anomaly_index": "{:.2f}".format(summary["max_anomaly_index"]),
        "median_l1": "{:.1f}".format(summary["median_l1"]),
        "known_targets": joined(summary["known_targets"]),
        "target_indices": target_indices,
        "target_ranks": target_ranks,
        "missed_targets": joined(summary["missed_targets"]),
        "verdict": summary["verdict"],
    }


def read_rows(paths):
    """row() of each nc.json in `paths`, sorted by badnet; InputError naming an unreadable one."""
    rows = []
    for path in paths:
        try:
            rows.append(row(read_json(path)))
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise InputError(path, "not a Neural Cleanse summary ({})".format(err)) from None
    return sorted(rows, key=lambda r: r["badnet"])
