"""The code is formatted as pyproject.toml says: black on the Python files, snakefmt on the rules.

Modern stack only (the formatters need Python >= 3.9); CI runs it with the rest of the suite.
"""

import shutil
import subprocess
import sys

import pytest

from conftest import REPO

PYTHON_DIRS = ["scripts", "benchmarks", "tests", "containers"]


def formatter(name):
    exe = shutil.which(name, path=str(REPO / ".venv" / "bin")) or shutil.which(name)
    if exe is None or sys.version_info < (3, 9):
        pytest.skip("{} is not installed here (requirements-dev.txt)".format(name))
    return exe


def check(cmd):
    proc = subprocess.run(
        cmd, cwd=str(REPO), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True
    )
    assert proc.returncode == 0, "run `{}` without --check:\n{}".format(" ".join(cmd), proc.stdout[-3000:])


def test_python_files_are_black_formatted():
    check([formatter("black"), "--check", "--quiet"] + PYTHON_DIRS)


def test_snakefile_and_rules_are_snakefmt_formatted():
    check([formatter("snakefmt"), "--check", "Snakefile", "rules"])
