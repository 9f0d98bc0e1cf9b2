"""The SLURM profile on a real single-node SLURM (.ci/slurm_test.sh).

Runs when CI_SLURM=1, or when SLURM can be installed here (root and apt-get); CI_SLURM=0 skips.
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

pytest.importorskip("snakemake")  # modern stack only

from conftest import REPO  # noqa: E402

SCRIPT = REPO / ".ci" / "slurm_test.sh"
MARK = "# written by bdeval .ci/slurm_test.sh"


def slurm_wanted():
    flag = os.environ.get("CI_SLURM", "")
    if flag == "0":
        return False, "CI_SLURM=0"
    if flag == "1":
        return True, ""
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        return False, "needs root to install and start SLURM (or CI_SLURM=1)"
    if not (shutil.which("sbatch") or shutil.which("apt-get")):
        return False, "neither SLURM nor apt-get available"
    conf = "/etc/slurm/slurm.conf"
    if os.path.exists(conf) and MARK not in open(conf).read():
        return False, "a real SLURM config is installed here; not replacing it"
    return True, ""


def test_demo_on_a_real_single_node_slurm_equals_the_local_run():
    wanted, why = slurm_wanted()
    if not wanted:
        pytest.skip(why)
    env = dict(os.environ, PYTHON=sys.executable)
    proc = subprocess.run(["bash", str(SCRIPT)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, env=env, timeout=1500)
    tail = proc.stdout[-6000:]
    assert proc.returncode == 0, tail
    assert "summary.csv and summary.md are identical to the local run's" in proc.stdout, tail
    assert "[slurm_test] OK" in proc.stdout, tail
    jobs = [line for line in proc.stdout.splitlines() if line.startswith("[slurm_test] SLURM jobs:")]
    assert jobs and all(r in jobs[0] for r in ("demo_data", "demo_badnet", "baseline", "summary"))
    gpus = [line for line in proc.stdout.splitlines() if line.startswith("[slurm_test] GPU requested by:")]
    assert gpus and "baseline" in gpus[0] and "demo_badnet" in gpus[0], tail
    assert "[slurm_test] container calls: 4" in proc.stdout and "--nv each time" in proc.stdout, tail
