#!/usr/bin/env bash
# The SLURM profile on a real SLURM: Debian's slurmctld + slurmd + munge started on this
# machine as a single-node cluster (localhost, no accounting daemon, a fake GPU GRES so that
# `--gpus` requests are accepted), then the small demo workflow run twice -- locally, and as the
# README says with `--workflow-profile profiles/slurm --use-apptainer` (Apptainer being the
# stand-in of tests/apptainer_standin) -- and the two summaries compared byte for byte.
#
# Needs root and apt-get (installs slurmctld, slurmd, slurm-client, munge when missing) and the
# repository's .venv (adds snakemake-executor-plugin-slurm from requirements-dev.txt if missing).
# Usage: bash .ci/slurm_test.sh            (PYTHON=... to use another interpreter)
# Leaves nothing running: the daemons it started are stopped on exit, by their PIDs.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
PY=${PYTHON:-$REPO/.venv/bin/python}
log() { echo "[slurm_test] $*"; }
# The config goes to /etc/slurm: `srun` in the job steps did not find one given by SLURM_CONF
# (it fell back to a DNS lookup). Never over a real cluster's config.
CONF_DIR=/etc/slurm
MARK="# written by bdeval .ci/slurm_test.sh"
if [ -e "$CONF_DIR/slurm.conf" ] && ! grep -qF "$MARK" "$CONF_DIR/slurm.conf"; then
    log "$CONF_DIR/slurm.conf exists and is not ours: refusing to replace a real cluster's config"
    exit 1
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bdeval-slurm.XXXXXX")
chmod 755 "$WORK"  # munged runs as user munge and keeps its socket in here

# --- 1. software --------------------------------------------------------------------------
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
        || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
    log "installing slurmctld slurmd slurm-client munge (apt-get)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        slurmctld slurmd slurm-client munge >/dev/null
fi
if ! "$PY" -c "import snakemake_executor_plugin_slurm" 2>/dev/null; then
    log "installing snakemake-executor-plugin-slurm"
    "$PY" -m pip install -q --disable-pip-version-check \
        "$(grep -i '^snakemake-executor-plugin-slurm' requirements-dev.txt | sed 's/#.*//; s/ //g')"
fi

# --- 2. munge and a one-node cluster ------------------------------------------------------
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    sleep 1
    for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    PIDS=()
    rm -f "$CONF_DIR/slurm.conf" "$CONF_DIR/gres.conf"
    if [ "${KEEP_SLURM_WORK:-0}" != 1 ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$WORK"/{spool/ctld,spool/d,log,munge} "$CONF_DIR"
chown munge:munge "$WORK/munge"
if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
fi
MUNGE_SOCKET=$WORK/munge/munge.socket
runuser -u munge -- munged --socket="$MUNGE_SOCKET" --pid-file="$WORK/munge/munged.pid" \
    --log-file="$WORK/munge/munged.log" --seed-file="$WORK/munge/munged.seed"
PIDS+=("$(cat "$WORK/munge/munged.pid")")

HOST=$(hostname -s)
CPUS=$(nproc)
MEM_MB=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))
cat > "$CONF_DIR/slurm.conf" <<EOF
$MARK
ClusterName=bdeval-ci
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCKET
CredType=cred/munge
StateSaveLocation=$WORK/spool/ctld
SlurmdSpoolDir=$WORK/spool/d
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/log/slurmctld.log
SlurmdLogFile=$WORK/log/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
GresTypes=gpu
MinJobAge=600
ReturnToService=2
MpiDefault=none
SwitchType=switch/none
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB Gres=gpu:2 State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
# Two fake GPUs: slurmd drops a GPU without a device file, so each is an empty file here. Jobs
# that ask for --gpus are accepted and simply run on the CPU (TensorFlow finds no GPU).
mkdir -p "$WORK/dev" && touch "$WORK/dev/fakegpu0" "$WORK/dev/fakegpu1"
cat > "$CONF_DIR/gres.conf" <<EOF
$MARK
NodeName=$HOST Name=gpu File=$WORK/dev/fakegpu[0-1]
EOF

slurmctld -i
slurmd
for _ in $(seq 60); do
    [ -s "$WORK/slurmctld.pid" ] && [ -s "$WORK/slurmd.pid" ] && break
    sleep 0.5
done
PIDS+=("$(cat "$WORK/slurmctld.pid")" "$(cat "$WORK/slurmd.pid")")
for _ in $(seq 60); do
    if sinfo -h -N -o "%T" 2>/dev/null | grep -qE "^idle"; then break; fi
    sleep 1
done
sinfo -N -o "%N %T %c %m %G"
if ! sinfo -h -N -o "%T" | grep -qE "^idle"; then
    log "node did not come up"; tail -n 20 "$WORK/log/slurmctld.log" "$WORK/log/slurmd.log"; exit 1
fi

# --- 3. the small demo workflow, locally and through SLURM --------------------------------
# Local: the plain host run. SLURM: as the README says -- from a copy of the repository, with
# `--workflow-profile profiles/slurm --use-apptainer`; Apptainer is the stand-in of
# tests/apptainer_standin (records each call, runs it on the host), the image an empty file at
# the config's default path.
mkdir -p "$WORK/local" "$WORK/slurm"
cp tests/hpc_small_demo.yaml "$WORK/local/config.yaml"
cp -r Snakefile rules scripts schemas profiles envs report containers "$WORK/slurm/"
rm -f "$WORK/slurm/containers/"*.sif
cp tests/hpc_small_demo.yaml "$WORK/slurm/config.yaml"
touch "$WORK/slurm/containers/bdeval-tf1.sif"

log "local run"
"$PY" -m snakemake -s "$REPO/Snakefile" --directory "$WORK/local" --cores 2 --quiet rules

log "SLURM run: snakemake --workflow-profile profiles/slurm --use-apptainer"
start=$(date +%s)
(
    cd "$WORK/slurm"
    export PATH="$REPO/tests/apptainer_standin:$(dirname "$PY"):$PATH"
    export APPTAINER_STANDIN_LOG="$WORK/apptainer_calls.jsonl"
    "$PY" -m snakemake --workflow-profile profiles/slurm --use-apptainer \
        --slurm-no-account --slurm-status-command squeue \
        --slurm-init-seconds-before-status-checks 2 \
        --quiet rules
)
log "SLURM run took $(( $(date +%s) - start )) s"

# --- 4. checks ----------------------------------------------------------------------------
for name in summary.csv summary_wide.csv summary.md; do
    cmp "$WORK/local/results/$name" "$WORK/slurm/results/$name"
done
log "summary.csv, summary_wide.csv and summary.md are identical to the local run's"

# Every job ran in the configured image with --nv (the profile's apptainer-args).
"$PY" - "$WORK/apptainer_calls.jsonl" "$WORK/slurm/containers/bdeval-tf1.sif" <<'PYEOF'
import json
import sys

calls = [json.loads(line) for line in open(sys.argv[1])]
execs = [c for c in calls if c["verb"] == "exec"]
assert len(execs) == 5, ("expected 5 container calls", [c["command"] for c in execs])
for call in execs:
    assert call["image"] == sys.argv[2] and call["nv"] and not call["invisible"], call
print("[slurm_test] container calls: {} (image {}, --nv each time)".format(len(execs), sys.argv[2]))
PYEOF

# Every job ran as a SLURM job; GPU rules asked for a GPU (the profile's gpu resource).
scontrol -o show job > "$WORK/jobs.txt"
"$PY" - "$WORK/jobs.txt" "$REPO/profiles/slurm/config.yaml" <<'PYEOF'
import re
import sys

import yaml

jobs = [dict(f.split("=", 1) for f in line.split() if "=" in f)
        for line in open(sys.argv[1]) if line.strip()]
profile = yaml.safe_load(open(sys.argv[2]))
gpu_rules = {rule for rule, res in profile["set-resources"].items() if int(res.get("gpu", 0)) > 0}
seen = {}
for job in jobs:
    match = re.match(r"rule_([A-Za-z0-9_]+?)_wildcards|rule_([A-Za-z0-9_]+)", job.get("Comment", ""))
    if not match:
        continue
    rule = match.group(1) or match.group(2)
    seen.setdefault(rule, []).append(job)
    assert job["JobState"] == "COMPLETED", (rule, job["JobState"])
    tres = job.get("TresPerJob", "") + job.get("TresPerNode", "")
    if rule in gpu_rules:
        assert "gpu" in tres, (rule, "no GPU requested", tres)
expected = {"demo_data", "demo_badnet", "baseline", "summary", "overview"}
missing = expected - set(seen)
assert not missing, ("rules that did not run as SLURM jobs", missing, sorted(seen))
print("[slurm_test] SLURM jobs:", ", ".join("{} x{}".format(r, len(j)) for r, j in sorted(seen.items())))
print("[slurm_test] GPU requested by:", ", ".join(sorted(gpu_rules & set(seen))))
PYEOF
log "OK"
