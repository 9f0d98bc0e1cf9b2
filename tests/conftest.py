"""Shared test setup: put <repo>/scripts on sys.path and locate the real CSAW data.

Python 3.7 syntax only: the suite also runs on the legacy TF 1.15 stack.
"""
import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

# Real challenge material, read-only, next to the repository (never copied into it).
CSAW = REPO.parent / "shared" / "csaw"

N_CLASSES = 1283



def python38():
    """A real Python 3.8 interpreter (PATH or pyenv), not a shim; None if there is none."""
    candidates = [shutil.which("python3.8")]
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates += sorted(glob.glob(os.path.join(root, "versions", "3.8*", "bin", "python3.8")))
    for exe in candidates:
        if exe and subprocess.run([exe, "-c", "import sys; assert sys.version_info[:2] == (3, 8)"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0:
            return exe
    return None


@pytest.fixture(scope="session")
def csaw():
    """Path to ../shared/csaw; skips the test when the real data are not there."""
    if not (CSAW / "models").is_dir() or not (CSAW / "data").is_dir():
        pytest.skip("real CSAW data not found at {}".format(CSAW))
    return CSAW


@pytest.fixture
def writable_copy(tmp_path):
    """copy(src, name) -> a writable copy of `src` in tmp_path (the shared files are read-only)."""

    def copy(src, name=None):
        dst = tmp_path / (name or Path(str(src)).name)
        shutil.copyfile(str(src), str(dst))  # copyfile: content only, not the read-only mode
        os.chmod(str(dst), 0o644)
        return dst

    return copy
