"""The summary's three forms from synthetic row files run through scripts/summarize.py: the tidy
summary.csv (one value per line), the wide summary_wide.csv (one row per line) and the compact
Markdown (at most 10 columns per table, the same values as the wide table); and the overview
figure of scripts/plot_overview.py, also through its rule."""

import csv
import json
import re
import shutil

import pytest

from bdeval import rows as bd_rows
from bdeval.rows import make_row
from bdeval.summary_tables import MAX_COLUMNS, TIDY_COLUMNS

from conftest import REPO, run_script, run_snakemake

MULTI = ["eyebrows", "lipstick", "sunglasses"]
TEXT_FIELDS = ("note", "method", "nc_flagged", "nc_schedule")


def asr(triggers, base):
    return {t: round(base + 0.01 * i, 6) for i, t in enumerate(triggers)}


def badnet_rows(badnet, triggers, drops=(2, 10)):
    """Rows as the defenses write them: baseline, pruning, fine-pruning-like repair with its
    bookkeeping, STRIP and Neural Cleanse, over `drops`."""
    poisoned = asr(triggers, 0.97) if triggers else {}
    out = {
        "none": [
            make_row(badnet, "none", None, "badnet", clean_acc_valid=0.98, clean_acc_test=0.975, asr=poisoned)
        ]
    }
    for drop in drops:
        cut = drop / 100.0
        pruned = dict(channels_pruned=20 + drop, channels_total=60)
        out["pruning_{}".format(drop)] = [
            make_row(
                badnet,
                "pruning",
                drop,
                "repaired",
                clean_acc_valid=0.98 - cut,
                clean_acc_test=0.97 - cut,
                asr=asr(triggers, 0.6 - cut),
                **pruned,
            ),
            make_row(
                badnet,
                "pruning",
                drop,
                "goodnet",
                clean_acc_valid=0.98 - cut,
                clean_acc_test=0.96 - cut,
                asr=asr(triggers, 0.6 - cut),
                detection=asr(triggers, 0.3 + cut),
                false_alarm_clean=cut / 2,
                **pruned,
            ),
        ]
        out["fine_pruning_{}".format(drop)] = [
            make_row(
                badnet,
                "fine_pruning",
                drop,
                variant,
                clean_acc_valid=0.97,
                clean_acc_test=0.95,
                asr=asr(triggers, 0.05),
                within_budget=True,
                best_epoch=None,
                check_images=6,
                note="the starting net (epoch 0) was best",
                **pruned,
            )
            for variant in ("repaired", "goodnet")
        ]
        out["strip_{}".format(drop)] = [
            make_row(
                badnet,
                "strip",
                drop,
                "goodnet",
                clean_acc_valid=0.97 - cut,
                clean_acc_test=0.965 - cut,
                asr=asr(triggers, 0.5),
                detection=asr(triggers, 0.45),
                far=asr(triggers, 0.5),
                frr_valid=cut,
                frr_test=cut + 0.001,
                threshold=0.3,
                n_blends=10,
                method="percentile",
            )
        ]
        out["neural_cleanse_{}".format(drop)] = [
            make_row(
                badnet,
                "neural_cleanse",
                drop,
                "goodnet",
                clean_acc_valid=0.96,
                clean_acc_test=0.955,
                asr=asr(triggers, 0.2),
                detection=asr(triggers, 0.7),
                false_alarm_clean=cut,
                frr_valid=cut,
                nc_flagged=[1, 5],
                nc_max_anomaly_index=2.74,
                nc_schedule="default",
            )
        ]
    return out


def nc_summary(badnet, known, flagged):
    return {
        "badnet": badnet,
        "n_classes": 16,
        "labels_scanned": 16,
        "method": "screen+refine",
        "threshold": 2.0,
        "separation": None,
        "flagged": flagged,
        "anomaly_index": {str(y): 2.5 + 0.1 * i for i, y in enumerate(flagged)},
        "weak": [],
        "paper_flagged": flagged,
        "near_threshold": [3],
        "max_anomaly_index": 2.6,
        "median_l1": 100.0,
        "known_targets": known,
        "missed_targets": [t for t in known if t not in flagged],
        "targets": {
            str(t): {
                "scanned": True,
                "stage": "refined",
                "anomaly_index": 2.5 if t in flagged else 0.4,
                "below_median": t in flagged,
                "rank": 1,
                "of": 16,
            }
            for t in known
        },
        "verdict": "Backdoor target(s) flagged: {}.".format(flagged),
    }


def write_norms(path, flagged):
    lines = ["label,stage,l1_norm,anomaly_index,flagged"]
    for y in range(16):
        l1 = 40.0 + y if y in flagged else 90.0 + 2 * y
        lines.append("{},refined,{},{:.4f},{}".format(y, l1, abs(l1 - 100.0) / 12.0, int(y in flagged)))
    path.write_text("\n".join(lines) + "\n")


BADNETS = {"multi": MULTI, "single": ["sunglasses"], "anon": []}


def write_inputs(root):
    """Row files of three badnets (three triggers, one, none) and Neural Cleanse's files;
    returns ([row files], [nc.json], [norms.csv])."""
    files, summaries, norms = [], [], []
    for badnet, triggers in sorted(BADNETS.items()):
        for name, rows in badnet_rows(badnet, triggers).items():
            path = root / "results" / badnet / "rows" / "{}.json".format(name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(rows))
            files.append(path)
        nc_dir = root / "results" / badnet / "neural_cleanse"
        nc_dir.mkdir(parents=True, exist_ok=True)
        (nc_dir / "nc.json").write_text(json.dumps(nc_summary(badnet, [1] if triggers else [], [1, 5])))
        write_norms(nc_dir / "norms.csv", [1, 5])
        summaries.append(nc_dir / "nc.json")
        norms.append(nc_dir / "norms.csv")
    return files, summaries, norms


@pytest.fixture(scope="module")
def summary(tmp_path_factory):
    root = tmp_path_factory.mktemp("summary")
    files, summaries, norms = write_inputs(root)
    out = root / "out"
    proc = run_script(
        "summarize.py",
        *files,
        "--nc-json",
        *summaries,
        "--out-csv",
        out / "summary.csv",
        "--out-wide-csv",
        out / "summary_wide.csv",
        "--out-md",
        out / "summary.md",
    )
    assert proc.returncode == 0, proc.stderr
    return {"root": root, "out": out, "files": files, "nc": summaries, "norms": norms}


def read_csv(path):
    with open(str(path), newline="") as handle:
        return list(csv.DictReader(handle))


def markdown_tables(text):
    """{(section, title or None): [dict per row]} of every Markdown table in `text`."""
    tables, section, title, header = {}, None, None, None
    for line in text.splitlines():
        if line.startswith("## "):
            section, title, header = line[3:], None, None
        elif line.endswith(":") and not line.startswith("|"):
            title = line[:-1]
        elif line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split(" | ")]
            if header is None:
                header = cells
                tables[(section, title)] = []
            elif not line.startswith("|---"):
                tables[(section, title)].append(dict(zip(header, cells)))
        else:
            header = None
    return tables


def pct(value):
    return "" if value == "" else "{:.2f}".format(100 * float(value))


# --- tidy CSV -------------------------------------------------------------------------------


def test_the_tidy_csv_has_one_numeric_value_per_line(summary):
    with open(str(summary["out"] / "summary.csv"), newline="") as handle:
        lines = list(csv.reader(handle))
    assert (
        lines[0] == TIDY_COLUMNS == ["badnet", "defense", "drop_pct", "variant", "metric", "trigger", "value"]
    )
    tidy = [dict(zip(lines[0], line)) for line in lines[1:]]
    for r in tidy:
        float(r["value"])  # every value a number
        assert r["metric"] not in TEXT_FIELDS
        assert bool(r["trigger"]) == (r["metric"] in ("asr", "detection", "far")), r
    keys = [tuple(r[c] for c in TIDY_COLUMNS[:-1]) for r in tidy]
    assert len(keys) == len(set(keys))  # one line per badnet x defense x drop x variant x metric x trigger
    budget = [r for r in tidy if r["metric"] == "within_budget"]
    assert budget and {r["value"] for r in budget} == {"1"}  # booleans as 1/0
    assert not [r for r in tidy if r["metric"] == "best_epoch"]  # None: no line


def test_the_tidy_csv_holds_every_number_of_the_wide_one(summary):
    wide = read_csv(summary["out"] / "summary_wide.csv")
    tidy = {
        tuple(r[c] for c in TIDY_COLUMNS[:-1]): r["value"] for r in read_csv(summary["out"] / "summary.csv")
    }
    seen = 0
    for row in wide:
        keys = tuple(row[c] for c in bd_rows.KEY_COLUMNS)
        for column, value in row.items():
            if column in bd_rows.KEY_COLUMNS or value == "" or column in TEXT_FIELDS:
                continue
            metric, _, trigger = column.partition(":")
            expected = "1" if value == "True" else "0" if value == "False" else value
            assert tidy[keys + (metric, trigger)] == expected, (keys, column)
            seen += 1
    assert seen == len(tidy)


def test_pandas_reads_the_tidy_csv_in_one_line(summary):
    pd = pytest.importorskip("pandas")
    df = pd.read_csv(str(summary["out"] / "summary.csv"))
    assert list(df.columns) == TIDY_COLUMNS
    assert df["value"].dtype.kind == "f" and df["drop_pct"].dtype.kind == "f"
    asr_max = df[(df.metric == "asr_max") & (df.variant == "goodnet")].pivot_table(
        index=["badnet", "drop_pct"], columns="defense", values="value"
    )
    assert asr_max.loc[("multi", 10.0), "pruning"] == pytest.approx(0.52)


def test_the_wide_csv_is_the_former_summary_csv_with_the_test_budget_check(summary, tmp_path):
    rows = [r for path in summary["files"] for r in json.loads(path.read_text())]
    columns, flat = bd_rows.table(bd_rows.mark_test_overspend(rows))
    bd_rows.write_csv(tmp_path / "wide.csv", columns, flat)
    assert (summary["out"] / "summary_wide.csv").read_bytes() == (tmp_path / "wide.csv").read_bytes()
    assert columns[:9] == bd_rows.KEY_COLUMNS + bd_rows.LEADING_COLUMNS


def test_a_row_over_its_budget_on_the_test_images_says_so():
    rows = [
        {"badnet": "b", "defense": "none", "drop_pct": None, "clean_acc_test": 0.9},
        {"badnet": "b", "defense": "pruning", "drop_pct": 10, "clean_acc_test": 0.6, "note": "x"},
        {"badnet": "b", "defense": "strip", "drop_pct": 10, "clean_acc_test": 0.76},
        {"badnet": "b", "defense": "strip", "drop_pct": 2, "clean_acc_test": None},
    ]
    bd_rows.mark_test_overspend(rows)
    assert rows[1]["test_within_budget"] == 0 and rows[1]["note"] == (
        "x; clean test accuracy 30.0 points below the badnet's: over the 10 % budget on unseen images"
    )
    assert rows[2]["test_within_budget"] == 1 and "note" not in rows[2]  # 14 points <= 10 + 5
    assert "test_within_budget" not in rows[0] and "test_within_budget" not in rows[3]


# --- compact Markdown -----------------------------------------------------------------------


def test_no_markdown_table_is_wider_than_10_columns(summary):
    text = (summary["out"] / "summary.md").read_text()
    widths = [len(line.strip("|").split(" | ")) for line in text.splitlines() if line.startswith("| ")]
    assert widths and max(widths) <= MAX_COLUMNS == 10
    for line in text.splitlines():
        if line.startswith("|---"):
            assert line.count("---|") <= MAX_COLUMNS


def compact_value(tables, badnet, row_keys, header):
    """The cell of a badnet's row under `header`; '' where no table of the badnet has that column
    (a column empty in every row is left out)."""
    found = False
    for (section, _), rows in tables.items():
        for r in rows if section == badnet else []:
            if (r["defense"].strip("*"), r["drop%"], r["variant"]) == row_keys:
                found = True
                if header in r:
                    return r[header]
    assert found, (badnet, row_keys)
    return ""


def test_the_compact_tables_hold_the_values_of_the_wide_one(summary):
    tables = markdown_tables((summary["out"] / "summary.md").read_text())
    wide = read_csv(summary["out"] / "summary_wide.csv")
    assert {s for s, _ in tables} == set(BADNETS) | {"Neural Cleanse: MAD outlier test"}
    for row in wide:
        keys = (row["defense"], row["drop_pct"], row["variant"])
        badnet = row["badnet"]

        def cell(header):
            return compact_value(tables, badnet, keys, header)

        assert cell("clean test (%)") == pct(row["clean_acc_test"])
        if BADNETS[badnet]:
            assert cell("ASR max (%)") == pct(row["asr_max"])
        if len(BADNETS[badnet]) > 1:
            for trigger in BADNETS[badnet]:
                assert cell("ASR {} (%)".format(trigger)) == pct(row["asr:" + trigger])
        if row["defense"] != "none":
            assert cell("detection (%)") == pct(row.get("detection_mean", ""))
            alarms = row.get("false_alarm_clean") or row.get("frr_test", "")
            assert cell("false alarms (%)") == pct(alarms)
            assert cell("note") == row.get("note", "")
        if row.get("channels_pruned"):
            assert cell("pruned / flagged") == "{}/{} channels".format(
                row["channels_pruned"], row["channels_total"]
            )
        if row.get("nc_flagged"):
            assert cell("pruned / flagged") == "labels 1, 5"
    n_rows = sum(len(rows) for (s, title), rows in tables.items() if s in BADNETS and title is None)
    assert n_rows == len(wide)


def test_per_trigger_asrs_go_to_a_second_table_when_they_do_not_fit(summary):
    tables = markdown_tables((summary["out"] / "summary.md").read_text())
    assert ("multi", "ASR per trigger (%)") in tables  # 9 columns + 3 triggers > 10
    assert ("single", "ASR per trigger (%)") not in tables  # one trigger: the max is its ASR
    assert not any(h.startswith("ASR ") and h != "ASR max (%)" for h in tables[("single", None)][0])
    assert "ASR max (%)" not in tables[("anon", None)][0]  # no poisoned data: no ASR column
    assert tables[("anon", None)][0]["note"] == "no poisoned data"


def test_per_trigger_asrs_stay_in_the_main_table_when_they_fit(tmp_path):
    rows = tmp_path / "none.json"
    rows.write_text(
        json.dumps(
            [
                make_row(
                    "multi",
                    "none",
                    None,
                    "badnet",
                    clean_acc_valid=0.9,
                    clean_acc_test=0.9,
                    asr=asr(MULTI, 0.9),
                )
            ]
        )
    )
    proc = run_script(
        "summarize.py",
        rows,
        "--out-csv",
        tmp_path / "s.csv",
        "--out-wide-csv",
        tmp_path / "w.csv",
        "--out-md",
        tmp_path / "s.md",
    )
    assert proc.returncode == 0, proc.stderr
    text = (tmp_path / "s.md").read_text()
    assert "| defense | drop% | variant | clean test (%) | ASR max (%) | ASR eyebrows (%) |" in text
    assert "ASR per trigger" not in text and "MAD outlier test" not in text  # no nc.json given


def test_the_best_defense_of_each_drop_is_bold(summary):
    tables = markdown_tables((summary["out"] / "summary.md").read_text())
    for drop in ("2", "10"):
        bold = {
            r["defense"]
            for r in tables[("multi", None)]
            if r["drop%"] == drop and r["defense"].startswith("**")
        }
        assert bold == {"**fine_pruning**"}, bold  # the lowest ASR max at every drop
    assert not [r for r in tables[("anon", None)] if r["defense"].startswith("**")]  # no ASR: no best


def test_the_neural_cleanse_table_names_flagged_and_missed_labels(summary):
    tables = markdown_tables((summary["out"] / "summary.md").read_text())
    mad = {r["badnet"]: r for r in tables[("Neural Cleanse: MAD outlier test", None)]}
    assert sorted(mad) == sorted(BADNETS)
    assert mad["multi"]["flagged"] == "1;5" and mad["multi"]["anomaly index"] == "2.50;2.60"
    assert mad["multi"]["missed targets"] == "none" and mad["anon"]["target index"] == "none"
    assert mad["single"]["verdict"].startswith("Backdoor target(s) flagged")


def test_a_bad_nc_json_is_one_line_naming_it(summary, tmp_path):
    bad = tmp_path / "nc.json"
    bad.write_text("{}")
    proc = run_script(
        "summarize.py",
        summary["files"][0],
        "--nc-json",
        bad,
        "--out-csv",
        tmp_path / "s.csv",
        "--out-wide-csv",
        tmp_path / "w.csv",
        "--out-md",
        tmp_path / "s.md",
    )
    assert proc.returncode == 2 and proc.stderr.startswith(
        "error: {}: not a Neural Cleanse summary".format(bad)
    )
    assert not (tmp_path / "s.md").exists()


# --- overview figure ------------------------------------------------------------------------


def is_png(path):
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 20000


@pytest.mark.parametrize("with_nc", [True, False])
def test_the_overview_figure_is_a_png(summary, tmp_path, with_nc):
    out = tmp_path / "overview.png"
    nc = ["--nc-json"] + summary["nc"] + ["--nc-norms"] + summary["norms"] if with_nc else []
    proc = run_script("plot_overview.py", "--summary", summary["out"] / "summary.csv", *nc, "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert is_png(out)


def test_the_overview_rejects_a_wide_table(summary, tmp_path):
    proc = run_script(
        "plot_overview.py", "--summary", summary["out"] / "summary_wide.csv", "--out", tmp_path / "o.png"
    )
    assert proc.returncode == 2 and "not a tidy summary" in proc.stderr


def test_the_overview_rule_makes_the_png_from_the_row_files(summary, tmp_path):
    """The summary and overview rules alone (--allowed-rules) on the synthetic row files."""
    pytest.importorskip("snakemake")
    yaml = pytest.importorskip("yaml")
    work = tmp_path / "work"
    shutil.copytree(str(summary["root"] / "results"), str(work / "results"))
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["drops"] = [2, 10]
    config["defenses"] = ["pruning", "fine_pruning", "strip", "neural_cleanse"]
    config["badnets"] = [
        dict(
            config["badnets"][0],
            name=name,
            poisoned=[{"trigger": t, "target": 1, "file": "data/{}.h5".format(t)} for t in triggers],
        )
        for name, triggers in sorted(BADNETS.items())
    ]
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    proc = run_snakemake(
        work, "--allowed-rules", "summary", "overview", "--", "results/overview.png", check=True
    )
    assert re.search(r"overview\s+1", proc.stdout) and re.search(r"summary\s+1", proc.stdout)
    assert is_png(work / "results" / "overview.png")
    assert (work / "results" / "logs" / "overview.log").is_file()
    assert (work / "results" / "benchmarks" / "overview.tsv").is_file()
    assert (work / "results" / "summary.md").read_text() == (summary["out"] / "summary.md").read_text()
