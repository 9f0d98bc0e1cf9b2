#!/usr/bin/env python
"""results/mad.csv: Neural Cleanse's MAD outcome per badnet (flagged labels, their anomaly
indices, the maximum index, known targets and the ones missed)."""
import argparse
import csv
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bdeval.errors import InputError, run_cli  # noqa: E402
from bdeval.outputs import atomic_path, read_json  # noqa: E402

COLUMNS = ["badnet", "n_classes", "schedule", "median_l1", "flagged", "anomaly_indices",
           "max_anomaly_index", "known_targets", "missed_targets", "scan_seconds"]


def joined(values):
    return ";".join(str(v) for v in values)


def row(summary):
    return {
        "badnet": summary["badnet"], "n_classes": summary["n_classes"],
        "schedule": summary["schedule"], "median_l1": "{:.4f}".format(summary["median_l1"]),
        "flagged": joined(summary["flagged"]),
        "anomaly_indices": joined("{:.4f}".format(summary["anomaly_index"][str(y)])
                                  for y in summary["flagged"]),
        "max_anomaly_index": "{:.4f}".format(summary["max_anomaly_index"]),
        "known_targets": joined(summary["known_targets"]),
        "missed_targets": joined(summary["missed_targets"]),
        "scan_seconds": "{:.1f}".format(summary["scan_seconds"]),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("summaries", nargs="+", help="nc.json of each badnet")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    rows = []
    for path in args.summaries:
        try:
            rows.append(row(read_json(path)))
        except (OSError, ValueError, KeyError) as err:
            raise InputError(path, "not a Neural Cleanse summary ({})".format(err)) from None
    with atomic_path(args.out) as tmp:
        with open(tmp, "w", newline="") as handle:
            writer = csv.DictWriter(handle, COLUMNS)
            writer.writeheader()
            writer.writerows(sorted(rows, key=lambda r: r["badnet"]))
    return 0


if __name__ == "__main__":
    run_cli(main)
