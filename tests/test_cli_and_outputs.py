"""The CLI error contract of errors.run_cli and the all-or-nothing outputs.atomic_path."""

import os

import pytest

from bdeval.datasets import load_dataset
from bdeval.errors import InputError, run_cli
from bdeval.outputs import atomic_path

from bad_input_helpers import DATA, WEIGHTS, faces, input_error, write_h5  # noqa: F401

# ---------------------------------------------------------------- CLI contract


def test_run_cli_turns_input_error_into_exit_2_and_one_line(capsys):
    def main(argv):
        print("working on", argv)
        raise InputError("/data/clean_test_data.h5", "no 'label' dataset (found: data)")

    with pytest.raises(SystemExit) as info:
        run_cli(main, ["--foo"])
    assert info.value.code == 2
    captured = capsys.readouterr()
    assert captured.err == "error: /data/clean_test_data.h5: no 'label' dataset (found: data)\n"
    assert len(captured.err.splitlines()) == 1 and captured.err.startswith("error: ")
    assert "Traceback" not in captured.err
    assert captured.out == "working on ['--foo']\n"


def test_run_cli_with_a_real_loader_error(tmp_path, capsys):
    path = tmp_path / "missing.h5"

    def main(argv):
        load_dataset(path)
        return 0

    with pytest.raises(SystemExit) as info:
        run_cli(main, [])
    assert info.value.code == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines == ["error: {}: no such file".format(path)]


@pytest.mark.parametrize("returned,code", [(None, 0), (0, 0), (3, 3)])
def test_run_cli_passes_the_exit_status_through(capsys, returned, code):
    with pytest.raises(SystemExit) as info:
        run_cli(lambda argv: returned, [])
    assert info.value.code == code
    assert capsys.readouterr().err == ""


def test_run_cli_does_not_hide_programming_errors():
    def main(argv):
        raise ZeroDivisionError("a bug, not a user error")

    with pytest.raises(ZeroDivisionError):
        run_cli(main, [])


# ---------------------------------------------------------------- atomic outputs


def test_atomic_path_leaves_no_file_when_the_body_raises(tmp_path):
    target = tmp_path / "out" / "result.json"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            with open(tmp, "w") as handle:
                handle.write('{"half": ')
            assert os.path.exists(tmp) and os.path.dirname(tmp) == str(target.parent)
            raise RuntimeError("killed half-way")
    assert not target.exists()
    assert os.listdir(str(target.parent)) == []  # no temporary file left behind either


def test_atomic_path_keeps_the_old_file_when_the_body_raises(tmp_path):
    target = tmp_path / "result.h5"
    target.write_text("old complete result")
    with pytest.raises(InputError):
        with atomic_path(target) as tmp:
            with open(tmp, "w") as handle:
                handle.write("partial")
            raise InputError(target, "bad input discovered late")
    assert target.read_text() == "old complete result"
    assert sorted(os.listdir(str(tmp_path))) == ["result.h5"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_atomic_path_output_respects_umask(tmp_path):
    """The temporary file is private (0600); the finished output must not stay so."""
    old = os.umask(0o022)
    try:
        with atomic_path(tmp_path / "shared.json") as tmp:
            with open(tmp, "w") as handle:
                handle.write("{}")
    finally:
        os.umask(old)
    assert oct(os.stat(str(tmp_path / "shared.json")).st_mode & 0o777) == oct(0o644)


def test_atomic_path_writes_on_success(tmp_path):
    target = tmp_path / "new" / "result.txt"
    with atomic_path(target) as tmp:
        assert tmp != str(target) and tmp.endswith(".txt")
        with open(tmp, "w") as handle:
            handle.write("done")
    assert target.read_text() == "done"
    assert os.listdir(str(target.parent)) == ["result.txt"]
