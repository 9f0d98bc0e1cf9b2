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

# Shared fixtures: small_demo (demo_fixtures), model and data of the real nets (real_models).
pytest_plugins = ["demo_fixtures", "real_models"]


def python38():
    """A real Python 3.8 interpreter (PATH or pyenv), not a shim; None if there is none."""
    candidates = [shutil.which("python3.8")]
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates += sorted(glob.glob(os.path.join(root, "versions", "3.8*", "bin", "python3.8")))
    for exe in candidates:
        if (
            exe
            and subprocess.run(
                [exe, "-c", "import sys; assert sys.version_info[:2] == (3, 8)"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            ).returncode
            == 0
        ):
            return exe
    return None


def run_python(args, cwd=None, env=None, merge=False):
    """Run this interpreter with ARGS; a CompletedProcess with text stdout and stderr (merge:
    stderr into stdout). env: extra environment variables on top of this process's."""
    full_env = dict(os.environ, **env) if env else None
    return subprocess.run(
        [sys.executable] + [str(a) for a in args],
        cwd=None if cwd is None else str(cwd),
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merge else subprocess.PIPE,
        universal_newlines=True,
    )


def loads_tensorflow(*modules):
    """Whether importing `modules` (found in scripts/) in a fresh interpreter loads TensorFlow;
    an import that fails fails the test."""
    code = "import sys; import {}; print('tensorflow' in sys.modules)".format(", ".join(modules))
    proc = run_python(["-c", code], cwd=SCRIPTS)
    assert proc.returncode == 0 and proc.stdout.strip() in ("True", "False"), proc.stdout + proc.stderr
    return proc.stdout.strip() == "True"


def run_script(name, *args, **kwargs):
    """scripts/NAME ARGS (keywords as run_python)."""
    return run_python([SCRIPTS / name] + list(args), **kwargs)


def script_output(name, *args, **kwargs):
    """scripts/NAME ARGS must exit with `code` (0); its stdout and stderr together."""
    code = kwargs.pop("code", 0)
    proc = run_script(name, *args, merge=True, **kwargs)
    assert proc.returncode == code, proc.stdout[-3000:]
    return proc.stdout


def run_snakemake(workdir, *args, **kwargs):
    """snakemake -s REPO/Snakefile --directory WORKDIR --cores 2 ARGS, stderr merged into stdout.
    check=True: fail the test with the log's tail unless it succeeds. snakefile: another copy."""
    check = kwargs.pop("check", False)
    snakefile = kwargs.pop("snakefile", REPO / "Snakefile")
    proc = run_python(
        ["-m", "snakemake", "-s", snakefile, "--directory", workdir, "--cores", "2"] + list(args),
        merge=True,
        **kwargs,
    )
    if check and proc.returncode != 0:
        raise AssertionError("snakemake failed:\n" + proc.stdout[-5000:])
    return proc


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
