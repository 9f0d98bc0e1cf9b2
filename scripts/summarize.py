#!/usr/bin/env python
"""Aggregate per-job row files (JSON lists of rows) into the summary: a tidy (long) CSV, one
value per line; the wide CSV, one row per line; and the compact Markdown tables per badnet,
with Neural Cleanse's MAD table when nc.json files are given."""

import argparse
import logging
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bdeval import mad_table, summary_tables  # noqa: E402
from bdeval.errors import InputError, run_cli  # noqa: E402
from bdeval.outputs import read_json, write_csv  # noqa: E402
from bdeval.rows import mark_test_overspend, table, write_csv as write_wide_csv  # noqa: E402


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("rows", nargs="+", help="row files written by the evaluation jobs")
    parser.add_argument(
        "--out-csv",
        required=True,
        help="tidy CSV: badnet, defense, drop_pct, variant, "
        "metric, trigger, value (numeric fields only; fractions)",
    )
    parser.add_argument("--out-wide-csv", required=True, help="wide CSV: one row per line (fractions)")
    parser.add_argument("--out-md", required=True, help="compact Markdown tables (percentages)")
    parser.add_argument(
        "--nc-json",
        nargs="*",
        default=[],
        metavar="NC_JSON",
        help="Neural Cleanse's nc.json of each badnet: adds the MAD table to the Markdown",
    )
    return parser.parse_args(argv)


def read_rows(path):
    try:
        rows = read_json(path)
    except (OSError, ValueError) as err:
        raise InputError(path, "unreadable row file ({})".format(err)) from None
    if not isinstance(rows, list) or not all(isinstance(r, dict) and "badnet" in r for r in rows):
        raise InputError(path, "expected a JSON list of rows with a 'badnet' field")
    return rows


def main(argv=None):
    args = parse_args(argv)
    rows = mark_test_overspend([row for path in args.rows for row in read_rows(path)])
    columns, flat = table(rows)
    write_wide_csv(args.out_wide_csv, columns, flat)
    write_csv(args.out_csv, *summary_tables.tidy(columns, flat))
    summary_tables.write_markdown(args.out_md, flat, mad_table.read_rows(args.nc_json))
    logging.info(
        "%d rows from %d files -> %s, %s, %s",
        len(flat),
        len(args.rows),
        args.out_csv,
        args.out_wide_csv,
        args.out_md,
    )
    return 0


if __name__ == "__main__":
    run_cli(main)
