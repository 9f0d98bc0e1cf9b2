"""`snakemake --report`: one HTML file with the results table, the Neural Cleanse MAD table and
the defenses' plots, each with its one-paragraph caption from report/*.rst.

Runs the small demo (tests/hpc_small_demo.yaml) with every defense on tiny budgets, then the
report; the embedded results are checked by name and caption.
"""

import base64
import re

import pytest

pytest.importorskip("snakemake")  # modern stack only
yaml = pytest.importorskip("yaml")

from conftest import REPO, run_snakemake  # noqa: E402

SMALL_DEMO = REPO / "tests" / "hpc_small_demo.yaml"
FRONT_PAGE = "workflow.rst"  # the report's front page (Snakefile `report:`), not a caption
# output file name in the report -> its caption
EXPECTED = {
    "overview.png": "overview.rst",
    "summary.md": "summary.rst",
    "mad.csv": "mad.rst",
    "pruning_curve.png": "pruning_curve.rst",
    "activation_maps.png": "activation_maps.rst",
    "entropy_histograms.png": "strip_histograms.rst",
    "far_frr.png": "strip_rates.rst",
    "gallery.png": "nc_gallery.rst",
}


def caption_probe(name):
    """The caption's first words, as they appear in the rendered HTML."""
    text = (REPO / "report" / name).read_text().strip()
    first = re.split(r"[.:(`]", text)[0]
    return " ".join(first.split()[:8])


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("report")
    config = yaml.safe_load(SMALL_DEMO.read_text())
    config["defenses"] = ["pruning", "fine_pruning", "strip", "neural_cleanse"]
    config["strip"] = {"n_blends": 10}
    config["pruning"] = {"fine_tune_epochs": 1}
    config["neural_cleanse"] = {"epochs": 2, "images_per_label": 5, "refine": {"epochs": 2, "jobs": 2}}
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    run_snakemake(workdir, "--quiet", "rules", check=True)
    html = workdir / "report.html"
    run_snakemake(workdir, "--report", str(html), check=True)
    return workdir, html.read_text()


def test_report_is_one_html_file_with_the_results_table_and_its_caption(report):
    workdir, html = report
    assert html.lstrip().lower().startswith("<!doctype html")
    assert '"name": "summary.md"' in html
    assert caption_probe("summary.rst") in html
    encoded = re.search(r"summary\.md;base64,([A-Za-z0-9+/=]+)", html).group(1)
    assert base64.b64decode(encoded).decode() == (workdir / "results" / "summary.md").read_text()


@pytest.mark.parametrize("output", sorted(set(EXPECTED) - {"summary.md"}))
def test_report_holds_the_mad_table_and_the_plots_with_captions(report, output):
    _, html = report
    assert '"name": "{}"'.format(output) in html, "{} is not in the report".format(output)
    assert caption_probe(EXPECTED[output]) in html, "caption {} missing".format(EXPECTED[output])


def test_the_front_page_says_what_was_run_and_points_to_the_overview_first(report):
    _, html = report
    start = html.index("var workflow_desc")
    front = html[start : html.index("</script>", start)]
    assert "What was run" in front and "demo_single" in front and "pruning, fine_pruning, strip" in front
    assert front.index("overview.png") < front.index("summary.md") < front.index("mad.csv")
    assert "System Message" not in front  # every link of the rst resolved
    # first under Results: the report orders a category's results by their labels
    labels = re.findall(r'"labels": \{"result": "([^"]+)"\}', html)
    assert sorted(labels)[0] == "1 overview figure" and len(labels) == 3, labels


def test_the_report_embeds_the_overview_figure(report):
    workdir, html = report
    entry = html[html.index('"results/overview.png": {') :]
    encoded = re.search(r'"data_uri": "data:image/png[^,"]*;base64,([A-Za-z0-9+/=]+)"', entry).group(1)
    assert base64.b64decode(encoded) == (workdir / "results" / "overview.png").read_bytes()


def test_captions_are_one_paragraph():
    for path in sorted(p for p in (REPO / "report").glob("*.rst") if p.name != FRONT_PAGE):
        text = path.read_text().strip()
        assert text and "\n\n" not in text, path.name
        assert 40 <= len(text.split()) <= 160, (path.name, len(text.split()))
