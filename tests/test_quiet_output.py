"""Quiet output: TensorFlow's start-up lines hidden unless --verbose or BDEVAL_VERBOSE=1.

Real scripts run as a user runs them; bdeval.tflog on fake modules that write to stderr.
Python 3.7 syntax only.
"""

import os
import subprocess
import sys

import pytest

from bdeval import tflog
from conftest import SCRIPTS

# words of TensorFlow's C++ start-up lines (TF 2.x) and of TF 1.15's numpy warnings
TF_NOISE = ("absl", "oneDNN", "cuda", "cuInit", "cpu_feature_guard", "FutureWarning")


def run(args, env_extra=None):
    env = dict(os.environ)
    for name in ("BDEVAL_VERBOSE", "TF_CPP_MIN_LOG_LEVEL"):
        env.pop(name, None)
    env.update(env_extra or {})
    proc = subprocess.run(
        [sys.executable] + [str(a) for a in args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        universal_newlines=True,
        env=env,
    )
    return proc.returncode, proc.stdout, proc.stderr.splitlines()


def noise(lines):
    return [line for line in lines if any(word.lower() in line.lower() for word in TF_NOISE)]


def evaluate_missing_data(tmp_path, *extra):
    """evaluate_baseline.py (imports TensorFlow first) with a missing clean validation file."""
    return [
        SCRIPTS / "evaluate_baseline.py",
        "--badnet",
        "b",
        "--weights",
        tmp_path / "w.h5",
        "--scaling",
        "raw",
        "--clean-validation",
        tmp_path / "missing.h5",
        "--clean-test",
        tmp_path / "missing.h5",
        "--out-json",
        tmp_path / "o.json",
        "--out-rows",
        tmp_path / "r.json",
    ] + list(extra)


def test_a_script_error_is_not_drowned_in_tensorflow_start_up_lines(tmp_path):
    code, out, err = run(evaluate_missing_data(tmp_path))
    assert code == 2
    assert noise(err) == [], err
    assert err and err[-1] == "error: {}: no such file".format(tmp_path / "missing.h5"), err


@pytest.mark.parametrize("how", ["--verbose", "BDEVAL_VERBOSE=1"])
def test_verbose_shows_them_and_is_taken_by_every_script(tmp_path, how):
    """evaluate_baseline.py's own parser has no --verbose: run_cli takes it for every script."""
    extra, env = ([how], None) if how.startswith("--") else ([], dict([how.split("=")]))
    code, out, err = run(evaluate_missing_data(tmp_path, *extra), env)
    assert code == 2, err
    assert err[-1] == "error: {}: no such file".format(tmp_path / "missing.h5"), err
    from bdeval.tfcompat import LEGACY

    if not LEGACY:  # TF 1.15 logs nothing at import on CPU with its default level
        assert noise(err), err


def test_tensorflow_imported_before_tfcompat_is_quiet_too():
    """bdeval.neural_cleanse.tf_loss imports tensorflow itself (the Neural Cleanse scripts load it first)."""
    code, out, err = run(
        [
            "-c",
            "import sys; sys.path.insert(0, {!r}); import bdeval.neural_cleanse.core; "
            "import tensorflow; print(tensorflow.__loader__.__class__.__name__)".format(str(SCRIPTS)),
        ]
    )
    assert code == 0 and err == [], err
    assert out.strip() != "_QuietLoader"  # TensorFlow keeps its real loader


def test_help_mentions_verbose():
    code, out, err = run([SCRIPTS / "split_dataset.py", "--help"])
    assert code == 0, err
    assert "--verbose (every script)" in out and "BDEVAL_VERBOSE=1" in out


def test_verbose_requested():
    assert tflog.verbose_requested(["--verbose"], {})
    assert tflog.verbose_requested([], {"BDEVAL_VERBOSE": "1"})
    assert not tflog.verbose_requested(["x"], {"BDEVAL_VERBOSE": "0"})
    assert not tflog.verbose_requested([], {})


def test_import_output_is_dropped_on_success_and_shown_on_failure(tmp_path, monkeypatch, capfd):
    (tmp_path / "noisy_ok.py").write_text("import os\nos.write(2, b'start-up chatter\\n')\n")
    (tmp_path / "noisy_bad.py").write_text(
        "import os, sys\nos.write(2, b'the reason it failed\\n')\n"
        "sys.stderr.write('a python warning\\n')\nraise ImportError('noisy_bad is broken')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("noisy_ok", "noisy_bad"):
        monkeypatch.delitem(sys.modules, name, raising=False)
        monkeypatch.setattr(sys, "meta_path", [tflog.QuietImport(name)] + sys.meta_path)
    import noisy_ok

    assert type(noisy_ok.__loader__).__name__ == "SourceFileLoader"
    with pytest.raises(ImportError, match="noisy_bad is broken"):
        import noisy_bad  # noqa: F401
    err = capfd.readouterr().err
    assert "start-up chatter" not in err
    assert "the reason it failed" in err and "a python warning" in err
    assert not any(isinstance(f, tflog.QuietImport) for f in sys.meta_path)  # each used once
    monkeypatch.delitem(sys.modules, "noisy_ok")
