"""containers/bdeval-tf1.def without Apptainer: its structure, and its %post run for real on a
Python 3.8 venv standing in for the NVIDIA image (numpy preinstalled, TensorFlow absent).

What stays unverified here: the base image itself (nvcr.io is not reachable) and %test on
TensorFlow 1.15 with Python 3.8 (tests/test_python_compat.py runs the same self-test on the
host stacks).
"""

import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import REPO, python38

DEF = REPO / "containers" / "bdeval-tf1.def"
REQUIREMENTS = REPO / "containers" / "requirements-container.txt"
IMAGE_NUMPY = "1.22.4"  # a numpy the image could ship; the pins work with 1.17 to 1.23


def sections():
    """{'header': text, 'post': text, ...} of the definition file."""
    found, name = {"header": []}, "header"
    for line in DEF.read_text().splitlines():
        match = re.match(r"^%(\w+)\s*$", line)
        if match:
            name = match.group(1)
            found[name] = []
        else:
            found[name].append(line)
    return {k: "\n".join(v) for k, v in found.items()}


def pins():
    return [
        line.split("#")[0].strip()
        for line in REQUIREMENTS.read_text().splitlines()
        if line.split("#")[0].strip()
    ]


def test_definition_builds_on_nvidias_last_tf1_image_and_tests_our_code():
    parts = sections()
    assert re.search(r"^Bootstrap: docker$", parts["header"], re.M)
    assert re.search(r"^From: nvcr\.io/nvidia/tensorflow:23\.03-tf1-py3$", parts["header"], re.M)
    for line in parts["files"].splitlines():
        if line.strip():
            source = line.split()[0]
            assert (REPO / source).exists(), source  # relative to the repository root
    assert "selftest.py" in parts["test"] and "--expect-python 3.8" in parts["test"]
    assert "--expect-tf-major 1" in parts["test"]
    assert "MPLBACKEND=Agg" in parts["environment"]


def test_every_extra_package_is_pinned():
    names = set()
    for pin in pins():
        assert re.match(r"^[A-Za-z0-9_.-]+==[0-9][\w.]*$", pin), pin
        names.add(pin.split("==")[0].lower())
    assert {"h5py", "pillow", "pyyaml", "matplotlib"} <= names
    assert "numpy" not in names and "tensorflow" not in names  # those stay the image's own


def run(cmd, **kwargs):
    return subprocess.run(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, **kwargs
    )


@pytest.mark.skipif(sys.version_info < (3, 8), reason="modern stack only")
def test_post_installs_the_pins_on_python_3_8_and_keeps_the_images_numpy(tmp_path):
    exe = python38()
    if exe is None:
        pytest.skip("no Python 3.8 found (pyenv install 3.8)")
    venv = tmp_path / "image"
    assert run([exe, "-m", "venv", str(venv)]).returncode == 0
    python = str(venv / "bin" / "python")
    image = run(
        [
            python,
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            "--only-binary=:all:",
            "numpy==" + IMAGE_NUMPY,
        ]
    )
    if image.returncode != 0:
        pytest.skip("cannot install from the package index here:\n" + image.stdout[-1500:])
    opt = tmp_path / "opt"
    opt.mkdir()
    shutil.copyfile(str(REQUIREMENTS), str(opt / "requirements-container.txt"))
    post = sections()["post"].replace("cd /opt/bdeval", "cd '{}'".format(opt))
    env = dict(
        os.environ, PATH=os.pathsep.join([str(venv / "bin"), os.environ["PATH"]]), PIP_ONLY_BINARY=":all:"
    )
    proc = run(["sh", "-c", post], env=env, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stdout[-4000:]
    installed = dict(line.split("==") for line in (opt / "packages.txt").read_text().split())
    assert installed["numpy"] == IMAGE_NUMPY  # the image's numpy did not move
    for pin in pins():  # h5py included: this "image" had none
        name, version = pin.split("==")
        match = {k.lower(): v for k, v in installed.items()}
        assert match[name.lower()] == version, (pin, match.get(name.lower()))
    code = "import h5py, PIL, yaml, matplotlib, numpy; print(numpy.__version__, h5py.__version__)"
    check = run([python, "-c", code], env=dict(env, MPLBACKEND="Agg"))
    assert check.returncode == 0 and check.stdout.split()[:2] == [IMAGE_NUMPY, "2.10.0"], check.stdout
