"""Neural Cleanse's verdict in plain words, and how each known target fared (plain Python)."""

import numpy as np


def target_report(targets, rows, screen_norms, screen_index, median, logs=None):
    """{target: stage, norm, index, flagged-ness and ranks} for every known target.

    rows: per label (stage, result, final index); rank 1 = the smallest norm. screen_rank is
    among all scanned labels; rank among the labels of the final statistic's stage set."""
    screen_norms = np.asarray(screen_norms, np.float64)
    final = [y for y, row in enumerate(rows) if row[0] != "screen"] or list(range(len(rows)))
    final_norms = np.array([rows[y][1]["l1_norm"] for y in final])
    report = {}
    for t in targets:
        if t >= len(rows):
            report[str(t)] = {"scanned": False}
            continue
        stage, result, index = rows[t]
        report[str(t)] = {
            "scanned": True,
            "stage": stage,
            "l1_norm": float(result["l1_norm"]),
            "anomaly_index": float(index),
            "below_median": bool(result["l1_norm"] < median),
            "log_index": (logs or {}).get(t),
            "screen_l1": float(screen_norms[t]),
            "screen_index": float(screen_index[t]),
            "screen_rank": int(np.sum(screen_norms < screen_norms[t])) + 1,
            "rank": int(np.sum(final_norms < result["l1_norm"])) + 1 if t in final else None,
            "of": len(final),
        }
    return report


def _labels(indices):
    return ", ".join("{} (index {:.2f})".format(y, i) for y, i in indices)


def _missed(summary, targets):
    words = []
    for t in targets:
        info = summary["targets"][str(t)]
        side = "" if info.get("below_median", True) else ", its trigger LARGER than the median"
        side += ", weak" if t in summary.get("weak", []) else ""
        words.append("{} (index {:.2f}{})".format(t, info["anomaly_index"], side))
    return ", ".join(words)


def describe(summary):
    """One paragraph a person reads first: what was flagged, what is undecided, what was missed."""
    words = []
    if summary["labels_scanned"] < summary["n_classes"]:
        words.append(
            "PARTIAL SCAN of labels 0-{} of {}: a smoke test, not a verdict.".format(
                summary["labels_scanned"] - 1, summary["n_classes"]
            )
        )
    flagged = summary["flagged"]
    weak = summary.get("weak", [])
    if flagged:
        words.append(
            "Backdoor target(s) flagged: {}.".format(
                _labels((y, summary["anomaly_index"][str(y)]) for y in flagged)
            )
        )
    if weak:
        words.append(
            "Weak, NOT flagged: {}: above the paper's threshold {:g}, but the trigger is not "
            "{:g}x smaller than the next label's, as the smallest of many ordinary labels' "
            "triggers also are; these labels are neither cleared nor acted on.".format(
                _labels((y, summary["anomaly_index"][str(y)]) for y in weak),
                summary["threshold"],
                summary.get("separation") or 2,
            )
        )
    if not flagged and not weak:
        words.append(
            "No label flagged: no backdoor found by the trigger-size criterion "
            "(largest index {:.2f}, threshold {:g}).".format(
                summary["max_anomaly_index"], summary["threshold"]
            )
        )
    elif not flagged:
        words.append("No label flagged with confidence: undecided, not a clean bill.")
    if summary["near_threshold"]:
        words.append(
            "Undecided, close to the threshold: {}.".format(
                ", ".join("{}".format(y) for y in summary["near_threshold"])
            )
        )
    if summary.get("clean_control") and flagged:
        words.append("This net is a clean control (no backdoor planted): every flag is a false alarm.")
    missed = [t for t in summary["missed_targets"] if summary["targets"][str(t)].get("scanned")]
    if missed:
        words.append(
            "Known target(s) NOT flagged: {}: their reversed triggers are not clearly smaller "
            "than ordinary labels', which the trigger-size criterion needs.".format(_missed(summary, missed))
        )
    if summary["failed_labels"]:
        words.append(
            "{} label(s) never reached the attack-success threshold; their norms are upper "
            "bounds.".format(len(summary["failed_labels"]))
        )
    return " ".join(words)
