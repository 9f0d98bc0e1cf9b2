"""`snakemake --use-apptainer` against an `apptainer` stand-in placed first on PATH.

The stand-in (tests/apptainer_standin/apptainer) records every call and runs the command on the
host, after checking what a real Apptainer would need (the image exists, the host paths named in
the command are mounted). The small demo (tests/hpc_small_demo.yaml) runs once plainly and once
through the stand-in: every job must go through the configured image with --nv, and the
summaries must be identical.
"""

import json
import os
import sys

import pytest

pytest.importorskip("snakemake")  # modern stack only
yaml = pytest.importorskip("yaml")

from conftest import REPO, run_snakemake  # noqa: E402

STANDIN = REPO / "tests" / "apptainer_standin"
SMALL_DEMO = REPO / "tests" / "hpc_small_demo.yaml"
SCRIPTS_PER_RULE = {
    "demo_data": "make_demo_data.py",
    "demo_badnet": "train_demo_badnet.py",
    "baseline": "evaluate_baseline.py",
    "summary": "summarize.py",
    "overview": "plot_overview.py",
}


def workdir_with(tmp_path, name, **overrides):
    workdir = tmp_path / name
    workdir.mkdir()
    config = yaml.safe_load(SMALL_DEMO.read_text())
    config.update(overrides)
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    return workdir


def standin_env(log):
    env = dict(os.environ)
    # the stand-in first; `python` inside the "container" is this interpreter's
    env["PATH"] = os.pathsep.join([str(STANDIN), os.path.dirname(sys.executable), env["PATH"]])
    env["APPTAINER_STANDIN_LOG"] = str(log)
    return env


def calls(log, verb):
    return [c for c in map(json.loads, log.read_text().splitlines()) if c["verb"] == verb]


def benchmark_files(workdir):
    return sorted(str(p.relative_to(workdir)) for p in (workdir / "results" / "benchmarks").rglob("*.tsv"))


@pytest.fixture(scope="module")
def plain_run(tmp_path_factory):
    workdir = workdir_with(tmp_path_factory.mktemp("plain"), "run")
    run_snakemake(workdir, "--quiet", "rules", check=True)
    return workdir


def test_every_job_runs_in_the_configured_image_with_nv(plain_run, tmp_path):
    image = tmp_path / "images" / "bdeval-tf1.sif"
    image.parent.mkdir()
    image.write_bytes(b"")  # the stand-in only needs the file to exist
    workdir = workdir_with(tmp_path, "run", container=str(image))
    log = tmp_path / "apptainer_calls.jsonl"
    out = run_snakemake(
        workdir,
        "--use-apptainer",
        "--apptainer-args=--nv --bind {}".format(REPO),
        env=standin_env(log),
        check=True,
    ).stdout
    assert "Activating singularity image {}".format(image) in out

    execs = calls(log, "exec")
    # one container call per job: each job writes exactly one benchmark file
    assert len(execs) == len(benchmark_files(workdir)) == len(SCRIPTS_PER_RULE)
    for call in execs:
        assert call["image"] == str(image)
        assert call["nv"], call["argv"]
        assert call["home"] == str(workdir)
        assert call["invisible"] == []
    commands = [" ".join(c["command"]) for c in execs]
    for rule, script in SCRIPTS_PER_RULE.items():
        matching = [c for c in commands if script in c]
        assert len(matching) == 1, (rule, commands)
        # inside the image the scripts run with the image's `python`, not the host's venv
        assert " python {}".format(REPO / "scripts" / script) in matching[0]
        assert sys.executable not in matching[0]

    for name in ("summary.csv", "summary_wide.csv", "summary.md"):
        assert (workdir / "results" / name).read_text() == (plain_run / "results" / name).read_text(), name


def test_a_docker_address_is_pulled_once_and_then_used(tmp_path):
    url = "docker://nvcr.io/nvidia/tensorflow:23.03-tf1-py3"
    workdir = workdir_with(tmp_path, "run", container=url)
    log = tmp_path / "apptainer_calls.jsonl"
    run_snakemake(
        workdir,
        "results/demo/data/clean_test.h5",
        "--use-apptainer",
        "--apptainer-args=--nv --bind {}".format(REPO),
        "--quiet",
        "rules",
        env=standin_env(log),
        check=True,
    )
    pulls, execs = calls(log, "pull"), calls(log, "exec")
    assert [p["url"] for p in pulls] == [url]
    assert len(execs) == 1 and execs[0]["image"] == pulls[0]["name"] and execs[0]["nv"]
    assert (workdir / "results" / "demo" / "data" / "clean_test.h5").is_file()


def test_the_standin_refuses_what_a_real_container_could_not_see(tmp_path):
    # Without --bind, the repository's scripts are not mounted when the workdir is elsewhere:
    # the README's advice (run from the repository, or bind it) is what makes a real run work.
    if str(REPO).startswith("/tmp/"):
        pytest.skip("a repository under /tmp is always mounted")
    image = tmp_path / "image.sif"
    image.write_bytes(b"")
    workdir = workdir_with(tmp_path, "run", container=str(image))
    log = tmp_path / "apptainer_calls.jsonl"
    proc = run_snakemake(
        workdir,
        "results/demo/data/clean_test.h5",
        "--use-apptainer",
        "--apptainer-args=--nv",
        "--quiet",
        "rules",
        env=standin_env(log),
    )
    assert proc.returncode != 0
    (call,) = calls(log, "exec")
    assert call["invisible"] and all(p.startswith(str(REPO)) for p in call["invisible"])
    assert not (workdir / "results" / "demo" / "data" / "clean_test.h5").exists()
