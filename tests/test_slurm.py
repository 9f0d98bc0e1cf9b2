"""The SLURM profile on a real single-node SLURM (.ci/slurm_test.sh).

Opt-in, since it changes the machine: runs when BDEVAL_SLURM_TEST=1 (.ci/run sets it) and SLURM
can be installed here (root and apt-get), or when CI_SLURM=1 (no checks); CI_SLURM=0 skips.
The script installs Debian's slurmctld, slurmd and munge if needed, starts them on localhost
(no accounting daemon, a fake GPU GRES), runs the small demo locally and with
`--workflow-profile profiles/slurm --use-apptainer` (the Apptainer stand-in), and compares the
two summaries; it stops what it started.
"""

import os
import shutil
import subprocess
import sys

import pytest

from conftest import REPO

SCRIPT = REPO / ".ci" / "slurm_test.sh"
MARK = "# written by bdeval .ci/slurm_test.sh"
OPT_IN = "BDEVAL_SLURM_TEST"


def slurm_wanted():
    flag = os.environ.get("CI_SLURM", "")
    if flag == "0":
        return False, "CI_SLURM=0"
    if flag == "1":
        return True, ""
    if os.environ.get(OPT_IN, "") != "1":
        return False, (
            "installs SLURM and munge with apt-get, writes /etc/slurm and /etc/munge "
            "and starts their daemons: set {}=1 to run it (.ci/run does)".format(OPT_IN)
        )
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        return False, "needs root to install and start SLURM (or CI_SLURM=1)"
    if not (shutil.which("sbatch") or shutil.which("apt-get")):
        return False, "neither SLURM nor apt-get available"
    conf = "/etc/slurm/slurm.conf"
    if os.path.exists(conf) and MARK not in open(conf).read():
        return False, "a real SLURM config is installed here; not replacing it"
    return True, ""


def test_the_real_slurm_test_is_opt_in(monkeypatch):
    """`bash tests/run.sh` as root must not install SLURM or write /etc unless asked to."""
    monkeypatch.delenv(OPT_IN, raising=False)
    monkeypatch.delenv("CI_SLURM", raising=False)
    wanted, why = slurm_wanted()
    assert not wanted
    assert "{}=1".format(OPT_IN) in why and "apt-get" in why and "/etc/munge" in why
    monkeypatch.setenv(OPT_IN, "0")
    assert slurm_wanted()[0] is False


def test_ci_opts_in_and_runs_exactly_the_readme_test_command():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    setup = readme.split("## Set-up: two commands", 1)[1].split("\n## ", 1)[0]
    block = setup.split("```bash", 1)[1].split("```", 1)[0]
    command = [line for line in block.splitlines() if line.startswith("bash ")]
    assert command == ["bash tests/run.sh"]
    assert "{}=1".format(OPT_IN) in setup  # the sentence next to the test command
    ci = [
        line.strip()
        for line in (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    assert ci[-1] == command[0]
    assert "export {}=1".format(OPT_IN) in ci[:-1]


def test_demo_on_a_real_single_node_slurm_equals_the_local_run():
    pytest.importorskip("snakemake")  # modern stack only
    wanted, why = slurm_wanted()
    if not wanted:
        pytest.skip(why)
    env = dict(os.environ, PYTHON=sys.executable)
    proc = subprocess.run(
        ["bash", str(SCRIPT)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        universal_newlines=True,
        env=env,
        timeout=1500,
    )
    tail = proc.stdout[-6000:]
    assert proc.returncode == 0, tail
    assert (
        "summary.csv, summary_wide.csv and summary.md are identical to the local run's" in proc.stdout
    ), tail
    assert "[slurm_test] OK" in proc.stdout, tail
    jobs = [line for line in proc.stdout.splitlines() if line.startswith("[slurm_test] SLURM jobs:")]
    assert jobs and all(r in jobs[0] for r in ("demo_data", "demo_badnet", "baseline", "summary"))
    gpus = [line for line in proc.stdout.splitlines() if line.startswith("[slurm_test] GPU requested by:")]
    assert gpus and "baseline" in gpus[0] and "demo_badnet" in gpus[0], tail
    assert "[slurm_test] container calls: 5" in proc.stdout and "--nv each time" in proc.stdout, tail
