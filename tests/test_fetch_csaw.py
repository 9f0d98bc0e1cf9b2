"""Fetching the real challenge files: checksums, shapes and sizes, clear errors, nothing half-written."""

import hashlib
import os
import shutil
import subprocess
import sys


from conftest import REPO

from bdeval import csaw_assets

FETCH = str(REPO / "scripts" / "fetch_csaw.py")


def fetch(*args):
    return subprocess.run(
        [sys.executable, FETCH] + list(args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        universal_newlines=True,
    )


def one_error_line(proc):
    lines = [l for l in proc.stderr.splitlines() if l.startswith("error: ")]
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


def test_known_checksums_match_the_shared_weights(csaw):
    for name, (rel, expected) in csaw_assets.WEIGHTS.items():
        path = csaw / ("models/lab3/bd_weights.h5" if name == "lab3" else rel)
        assert hashlib.sha256(path.read_bytes()).hexdigest() == expected, name


def test_weights_from_a_local_copy_are_verified(csaw, tmp_path):
    out = tmp_path / "w" / "sunglasses_bd_weights.h5"
    proc = fetch("weights", "sunglasses", "--out", str(out), "--local-dir", str(csaw))
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == (csaw / "models" / "sunglasses_bd_weights.h5").read_bytes()


def test_corrupt_weights_fail_the_checksum_and_leave_nothing(csaw, tmp_path):
    local = tmp_path / "local"
    (local / "models").mkdir(parents=True)
    data = bytearray((csaw / "models" / "anonymous_1_bd_weights.h5").read_bytes())
    data[-100] ^= 0xFF
    (local / "models" / "anonymous_1_bd_weights.h5").write_bytes(bytes(data))
    out = tmp_path / "w" / "anonymous_1_bd_weights.h5"
    line = one_error_line(fetch("weights", "anonymous_1", "--out", str(out), "--local-dir", str(local)))
    assert str(out) in line and "sha256" in line and "does not match" in line
    assert not out.exists() and os.listdir(str(out.parent)) == []


def test_missing_local_weights_say_where_to_put_what(tmp_path):
    out = tmp_path / "lab3_bd_weights.h5"
    line = one_error_line(fetch("weights", "lab3", "--out", str(out), "--local-dir", str(tmp_path)))
    assert "lab3/models/bd_weights.h5" in line and "no such file" in line
    assert not out.exists()


def test_failed_download_says_which_file_to_place_where(tmp_path):
    out = tmp_path / "sunglasses_bd_weights.h5"
    line = one_error_line(fetch("weights", "sunglasses", "--out", str(out), "--commit", "0" * 40))
    assert "download of https://" in line and "place that file here by hand" in line
    assert csaw_assets.WEIGHTS["sunglasses"][1] in line
    assert not out.exists()


def lab3_local_copy(csaw, root):
    for rel, src in (
        ("cl/valid.h5", "cl_test_subset.h5"),
        ("cl/test.h5", "cl_test_subset.h5"),
        ("bd/bd_valid.h5", "bd_test_subset.h5"),
        ("bd/bd_test.h5", "bd_test_subset.h5"),
    ):
        dst = root / "lab3" / "data" / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(str(csaw / "data" / "lab3" / src), str(dst))


def test_lab3_images_from_a_local_copy(csaw, tmp_path):
    lab3_local_copy(csaw, tmp_path / "local")
    dest = tmp_path / "dest"
    proc = fetch("data", "lab3", "--dest", str(dest), "--local-dir", str(tmp_path / "local"))
    assert proc.returncode == 0, proc.stderr
    for rel in csaw_assets.LAB3_DATA:
        assert (dest / rel).is_file(), rel
    assert [p for p in os.listdir(str(dest)) if p.startswith(".fetch-")] == []


def test_challenge_images_of_the_wrong_size_are_rejected(csaw, tmp_path):
    local = tmp_path / "local"
    for rel, (source, _) in csaw_assets.CHALLENGE_DATA.items():
        dst = local / source
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(str(csaw / "data" / "clean_test_subset.h5"), str(dst))
    dest = tmp_path / "dest"
    line = one_error_line(fetch("data", "challenge", "--dest", str(dest), "--local-dir", str(local)))
    assert "holds 60 images" in line and "has 10264" in line
    assert not any(os.path.isfile(os.path.join(d, f)) for d, _, fs in os.walk(str(dest)) for f in fs)


def test_split_is_stratified_seeded_and_complete(csaw, tmp_path):
    from bdeval.datasets import load_dataset

    script = str(REPO / "scripts" / "split_dataset.py")
    outs = []
    for run in ("a", "b"):
        valid, test = tmp_path / (run + "_valid.h5"), tmp_path / (run + "_test.h5")
        proc = subprocess.run(
            [
                sys.executable,
                script,
                str(csaw / "data" / "clean_test_subset.h5"),
                "--validation",
                str(valid),
                "--test",
                str(test),
                "--seed",
                "3",
            ],
            stderr=subprocess.PIPE,
            universal_newlines=True,
        )
        assert proc.returncode == 0, proc.stderr
        outs.append((load_dataset(str(valid)), load_dataset(str(test))))
    (va, ta), (vb, tb) = outs
    assert len(va.y) == 30 and len(ta.y) == 30
    assert (va.x == vb.x).all() and (ta.y == tb.y).all()
    full = load_dataset(str(csaw / "data" / "clean_test_subset.h5"))
    assert sorted(va.y.tolist() + ta.y.tolist()) == sorted(full.y.tolist())
