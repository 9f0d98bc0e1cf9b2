#!/usr/bin/env python
"""Fetch and verify the real CSAW-HackML-2020 weights and data.

  fetch_csaw.py weights NAME --out FILE [--local-dir DIR]   sha256-checked weights file
  fetch_csaw.py data {challenge,lab3} --dest DIR [--local-dir DIR]   the image sets, shape-checked

Without --local-dir the weights come from the challenge's GitHub repository at its pinned
commit and the images from its Google Drive folders (gdown). With --local-dir, the files are
copied from a folder with the challenge's layout. Nothing is left behind unless verified.
"""

import argparse
import logging
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bdeval import csaw_assets  # noqa: E402
from bdeval.datasets import load_dataset  # noqa: E402
from bdeval.errors import InputError, run_cli  # noqa: E402
from bdeval.outputs import atomic_path, file_digest  # noqa: E402


def download(url, dest):
    from urllib.request import urlopen

    with urlopen(url, timeout=60) as response, open(dest, "wb") as handle:
        shutil.copyfileobj(response, handle)


def fetch_weights(name, out, local_dir, commit):
    rel, expected = csaw_assets.WEIGHTS[name]
    url = csaw_assets.weights_url(rel, commit)
    with atomic_path(out) as tmp:
        if local_dir:
            source = os.path.join(local_dir, rel)
            if not os.path.isfile(source):
                raise InputError(
                    source, "no such file; put the challenge's {} there (from {})".format(rel, url)
                )
            shutil.copyfile(source, tmp)
        else:
            logging.info("downloading %s", url)
            try:
                download(url, tmp)
            except Exception as err:  # network errors come in many types
                raise InputError(
                    out,
                    "download of {} failed ({}); place that file here by hand "
                    "(sha256 {}) or set csaw.local_dir".format(url, err, expected),
                ) from None
        got = file_digest(tmp)
        if got != expected:
            raise InputError(
                out,
                "sha256 {} does not match the challenge's {} (wrong or corrupt file)".format(got, expected),
            )
    logging.info("%s: sha256 verified", out)


def _find(root, rel):
    """A downloaded file by its name and, if any, its parent folder's name."""
    name, parent = os.path.basename(rel), os.path.basename(os.path.dirname(rel))
    matches = []
    for here, _, files in os.walk(root):
        if name in files:
            matches.append(os.path.join(here, name))
    if len(matches) > 1:
        matches = [m for m in matches if os.path.basename(os.path.dirname(m)) == parent]
    return matches[0] if len(matches) == 1 else None


def fetch_data(which, dest, local_dir):
    expected = csaw_assets.CHALLENGE_DATA if which == "challenge" else csaw_assets.LAB3_DATA
    folder = csaw_assets.DRIVE_FOLDER if which == "challenge" else csaw_assets.LAB3_DRIVE_FOLDER
    os.makedirs(dest, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".fetch-", dir=dest)
    try:
        if local_dir:
            root = local_dir
        else:
            root = staging
            try:
                import gdown

                logging.info("downloading Google Drive folder %s", folder)
                gdown.download_folder(id=folder, output=staging, quiet=False)
            except Exception as err:
                raise InputError(
                    dest,
                    "download of Google Drive folder {} failed ({}); download it by "
                    "hand and set csaw.local_dir to a folder holding {}".format(
                        folder, err, ", ".join(sorted(s for s, _ in expected.values()))
                    ),
                ) from None
        verified = {}
        for rel, (source, n_images) in sorted(expected.items()):
            found = os.path.join(local_dir, source) if local_dir else _find(root, source)
            if not found or not os.path.isfile(found):
                raise InputError(
                    os.path.join(root, source), "missing; expected the challenge's {}".format(source)
                )
            data = load_dataset(found, 1283)
            if n_images is not None and len(data.y) != n_images:
                raise InputError(
                    found, "holds {} images, the challenge's {} has {}".format(len(data.y), source, n_images)
                )
            logging.info("%s: %d images, shape verified", source, len(data.y))
            verified[rel] = found
        for rel, found in sorted(verified.items()):  # copy only once every file is verified
            with atomic_path(os.path.join(dest, rel)) as tmp:
                shutil.copyfile(found, tmp)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what")
    w = sub.add_parser("weights")
    w.add_argument("name", choices=sorted(csaw_assets.WEIGHTS))
    w.add_argument("--out", required=True)
    w.add_argument("--local-dir", default="")
    w.add_argument("--commit", default=csaw_assets.UPSTREAM_COMMIT)
    d = sub.add_parser("data")
    d.add_argument("which", choices=["challenge", "lab3"])
    d.add_argument("--dest", required=True)
    d.add_argument("--local-dir", default="")
    args = parser.parse_args(argv)
    if args.what == "weights":
        fetch_weights(args.name, args.out, args.local_dir, args.commit)
    elif args.what == "data":
        fetch_data(args.which, args.dest, args.local_dir)
    else:
        parser.error("say what to fetch: weights or data")
    return 0


if __name__ == "__main__":
    run_cli(main)
