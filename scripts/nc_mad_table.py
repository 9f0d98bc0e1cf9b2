#!/usr/bin/env python
"""results/mad.csv: Neural Cleanse's MAD outcome per badnet (flagged labels, their anomaly
indices, the maximum index, known targets and the ones missed)."""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bdeval.errors import run_cli  # noqa: E402
from bdeval.mad_table import COLUMNS, read_rows  # noqa: E402
from bdeval.outputs import write_csv  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("summaries", nargs="+", help="nc.json of each badnet")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    write_csv(args.out, COLUMNS, [[r[c] for c in COLUMNS] for r in read_rows(args.summaries)])
    return 0


if __name__ == "__main__":
    run_cli(main)
