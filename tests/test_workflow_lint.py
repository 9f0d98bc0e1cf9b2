"""Static checks of the workflow: `snakemake --lint` reports nothing, the default config plans,
also with the SLURM profile and with --use-apptainer, and the profiles and report captions
match the rules that exist."""

import os
import re
import shutil

import pytest

pytest.importorskip("snakemake")  # modern stack only
yaml = pytest.importorskip("yaml")

from conftest import REPO, run_snakemake  # noqa: E402

RULE_FILES = sorted((REPO / "rules").glob("*.smk"))


@pytest.fixture
def default_workdir(tmp_path):
    shutil.copyfile(str(REPO / "config.yaml"), str(tmp_path / "config.yaml"))
    return tmp_path


def job_counts(output):
    """{rule: count} from the 'Job stats' table of a dry run."""
    counts, in_table = {}, False
    for line in output.splitlines():
        if line.startswith("job ") and "count" in line:
            in_table = True
            continue
        if in_table:
            fields = line.split()
            if not fields or fields[0] == "total":
                break
            if len(fields) == 2 and fields[1].isdigit():
                counts[fields[0]] = int(fields[1])
    return counts


def rule_blocks():
    """{rule name: its source text} over rules/*.smk."""
    blocks = {}
    for path in RULE_FILES:
        text = path.read_text()
        starts = [(m.start(), m.group(1)) for m in re.finditer(r"^rule (\w+):", text, re.M)]
        for (start, name), nxt in zip(starts, starts[1:] + [(len(text), None)]):
            blocks[name] = text[start : nxt[0]]
    return blocks


def test_lint_reports_nothing(default_workdir):
    proc = run_snakemake(default_workdir, "--lint")
    lints = [line for line in proc.stdout.splitlines() if line.startswith(("Lints for", "    * "))]
    assert proc.returncode == 0 and not lints, "\n".join(lints) or proc.stdout[-3000:]


def test_dry_run_of_the_default_config_plans_every_configured_step(default_workdir):
    proc = run_snakemake(default_workdir, "--dry-run")
    assert proc.returncode == 0, proc.stdout[-3000:]
    counts = job_counts(proc.stdout)
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    n_badnets = len(config["badnets"])
    assert counts.get("demo_data") == 1
    assert counts.get("demo_badnet") == len(config["demo"]["models"])
    assert counts.get("baseline") == n_badnets
    assert counts.get("summary") == 1
    expected = {
        "pruning": "pruning",
        "fine_pruning": "fine_pruning",
        "strip": "strip_entropy",
        "neural_cleanse": "nc_scan",
        "nc_unlearning": "nc_unlearning",
        "nc_pruning": "nc_pruning",
    }
    for defense in config["defenses"]:
        assert counts.get(expected[defense], 0) >= 1, (defense, counts)


def test_dry_run_with_the_slurm_profile(default_workdir):
    if shutil.which("sbatch") is None:
        pytest.skip("the SLURM executor plugin checks for SLURM's commands")
    proc = run_snakemake(
        default_workdir,
        "--dry-run",
        "--workflow-profile",
        str(REPO / "profiles" / "slurm"),
        "--slurm-no-account",
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "workflow specific profile" in proc.stdout and job_counts(proc.stdout).get("baseline")


def test_dry_run_with_apptainer_uses_the_configured_image(default_workdir):
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(REPO / "tests" / "apptainer_standin"), env["PATH"]])
    config = yaml.safe_load((default_workdir / "config.yaml").read_text())
    config["container"] = "docker://nvcr.io/nvidia/tensorflow:23.03-tf1-py3"
    (default_workdir / "config.yaml").write_text(yaml.safe_dump(config))
    proc = run_snakemake(default_workdir, "--dry-run", "--use-apptainer", env=env)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "Singularity image docker://nvcr.io/nvidia/tensorflow:23.03-tf1-py3 will be pulled" in proc.stdout


def test_the_slurm_profile_names_existing_rules_and_gives_gpu_rules_a_gpu():
    profile = yaml.safe_load((REPO / "profiles" / "slurm" / "config.yaml").read_text())
    assert profile["executor"] == "slurm" and profile["apptainer-args"] == "--nv"
    blocks = rule_blocks()
    set_resources = profile["set-resources"]
    assert set(set_resources) <= set(blocks), set(set_resources) - set(blocks)
    declared_gpu = {name for name, text in blocks.items() if re.search(r"\bgpu\s*=\s*1\b", text)}
    for name in declared_gpu | {"demo_badnet", "baseline"}:
        res = set_resources.get(name, {})
        assert res.get("gpu") == 1 and res.get("mem_mb") and res.get("runtime"), (name, res)
    for res in set_resources.values():  # the plugin rejects GPU requests in slurm_extra
        assert not re.search(r"--(gres|gpus)", str(res.get("slurm_extra", "")))
    default = yaml.safe_load((REPO / "profiles" / "default" / "config.yaml").read_text())
    assert default["apptainer-args"] == "--nv" and "executor" not in default


def test_every_report_caption_exists_and_every_caption_is_used():
    used = set()
    for path in RULE_FILES:
        for caption in re.findall(r"caption\s*=\s*\"([^\"]+)\"", path.read_text()):
            target = (path.parent / caption).resolve()
            assert target.is_file(), (path.name, caption)
            used.add(target.name)
    captions = {p.name for p in (REPO / "report").glob("*.rst")} - {"workflow.rst"}
    assert captions - used == set(), "captions no rule uses yet: {}".format(sorted(captions - used))
    # the front page of the report is the Snakefile's global `report:`
    assert re.search(r'^report:\s*"report/workflow.rst"', (REPO / "Snakefile").read_text(), re.M)
