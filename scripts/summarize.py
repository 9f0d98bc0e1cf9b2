#!/usr/bin/env python
"""Aggregate per-job row files (JSON lists of rows) into one CSV and one Markdown table."""
import argparse
import logging
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bdeval.errors import InputError, run_cli  # noqa: E402
from bdeval.outputs import read_json  # noqa: E402
from bdeval.rows import table, write_csv, write_markdown  # noqa: E402


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("rows", nargs="+", help="row files written by the evaluation jobs")
    parser.add_argument("--out-csv", required=True)
    parser.add_argument("--out-md", required=True)
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
    rows = [row for path in args.rows for row in read_rows(path)]
    columns, flat = table(rows)
    write_csv(args.out_csv, columns, flat)
    write_markdown(args.out_md, columns, flat)
    logging.info("%d rows from %d files -> %s, %s", len(flat), len(args.rows), args.out_csv, args.out_md)
    return 0


if __name__ == "__main__":
    run_cli(main)
