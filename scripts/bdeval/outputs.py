"""Output files: atomic writes (a file is either complete or absent) and their readers."""

import contextlib
import csv
import hashlib
import json
import os
import tempfile
import zipfile
import zlib

from .errors import InputError


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path next to `path`; rename it onto `path` only on success."""
    path = str(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    suffix = os.path.splitext(path)[1]
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=suffix, dir=directory)
    os.close(fd)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_json(path, obj):
    with atomic_path(path) as tmp:
        with open(tmp, "w") as handle:
            json.dump(obj, handle, indent=2, sort_keys=True)
            handle.write("\n")


def read_json(path):
    with open(str(path)) as handle:
        return json.load(handle)


def write_csv(path, header, rows):
    """A CSV file: the header, then each row (a sequence of cells, formatted by the caller)."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)


def file_digest(path, chunk=1 << 20):
    """SHA-256 of a file's bytes, hex."""
    digest = hashlib.sha256()
    with open(str(path), "rb") as handle:
        for block in iter(lambda: handle.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def write_npz(path, arrays):
    """An uncompressed .npz of {name: array}, in the dict's order."""
    import numpy as np

    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, **arrays)


def read_npz(path, what, keys=(), missing_hint=""):
    """{name: array} of an .npz, read without pickles.

    A missing file, an unreadable one, or one without every name in `keys` is an InputError
    naming the file; `what` says what the file should be ("a STRIP entropy file").
    """
    import numpy as np

    if not os.path.exists(str(path)):
        raise InputError(path, "no such file" + missing_hint)
    try:
        with np.load(str(path), allow_pickle=False) as handle:
            arrays = {name: np.asarray(handle[name]) for name in handle.files}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as err:
        raise InputError(path, "not {} ({})".format(what, err)) from None
    missing = [key for key in keys if key not in arrays]
    if missing:
        raise InputError(path, "not {}: no {}".format(what, ", ".join(missing)))
    return arrays
