"""zeronas report: the HTML page opened from disk in headless Chromium (Debian's package driven by
Playwright), and its sections on logs with ground truth, without it, from DARTS and from a run in progress."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from _browser import browser_available, hover_text, open_report, problems
from test_analysis import TOP_K, truth, tss_csv, write_log  # noqa: F401 (fixtures)

from zeronas.cli import main
from zeronas.errors import ZeronasError
from zeronas.logs import LogWriter
from zeronas.report import write_report

needs_browser = pytest.mark.skipif(
    not browser_available(), reason="needs chromium (/usr/bin/chromium) and playwright: .ci/run installs both"
)


def _sections(text: str) -> dict[str, str]:
    return dict(re.findall(r'<section id="([a-z]+)">(.*?)</section>', text, flags=re.S))


@pytest.fixture(scope="module")
def log_dir(tmp_path_factory, truth) -> Path:  # noqa: F811
    return write_log(tmp_path_factory.mktemp("log"), truth, algorithms={"random": 0.0, "rea": 0.6}, seeds=(0, 1))


@pytest.fixture(scope="module")
def report_html(log_dir, tss_csv, tmp_path_factory) -> Path:  # noqa: F811
    out = tmp_path_factory.mktemp("html") / "report.html"
    assert main(["report", str(log_dir), "--benchmark", str(tss_csv), "--top-k", str(TOP_K), "--bootstrap", "20",
                 "--out", str(out)]) == 0  # fmt: skip
    return out


@needs_browser
@pytest.mark.slow
def test_report_opens_offline_draws_every_chart_and_hovers_the_arch(report_html, log_dir, truth, tmp_path):  # noqa: F811
    from playwright.sync_api import sync_playwright

    rows = pq.read_table(next(log_dir.glob("run=*"))).to_pylist()
    meco = {r["arch"]: r["proxy_meco"] for r in rows if r["stage"] == "proxy"}
    with sync_playwright() as pw:
        browser, page, errors = open_report(pw, report_html)
        try:
            assert problems(page, errors) == []
            charts = page.locator("section#proxies .js-plotly-plot")
            chart_id = charts.first.get_attribute("id")
            # a known point: the first drawn arch of the meco panel; its label names that arch, whose logged
            # meco value and benchmark accuracy are the point's coordinates
            point = page.evaluate(
                f"() => (({{x, y}}) => ({{x, y}}))(document.getElementById('{chart_id}').calcdata[0][0])"
            )
            label = hover_text(page, chart_id, 0, 0)
            arch = label.splitlines()[0]
            assert arch in meco, label
            assert point["x"] == pytest.approx(meco[arch]) and point["y"] == pytest.approx(truth[arch])
            assert f"accuracy {truth[arch]:.2f} %" in label and "meco" in label
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 50_000

            # the same checks catch a chart whose data is broken: emptied in place, or not valid JavaScript
            page.evaluate(f"() => Plotly.react('{chart_id}', [], {{}})")
            assert f"chart {chart_id} drew nothing" in " ".join(problems(page, errors))
            html = report_html.read_text()
            corrupt = re.sub(r'(Plotly\.newPlot\(\s*"chart-2",\s*\[)', r"\1{,", html, count=1)
            assert corrupt != html
            broken = tmp_path / "broken.html"
            broken.write_text(corrupt)
            bad_errors: list[str] = []
            bad = browser.new_page()
            bad.on("pageerror", lambda e: bad_errors.append(str(e)))
            bad.goto(broken.as_uri(), wait_until="load")
            found = problems(bad, bad_errors)
            assert found[0].startswith("console: ") and "chart chart-2 not drawn" in found, found
        finally:
            browser.close()


def test_report_sections_with_ground_truth(report_html):
    text = report_html.read_text()
    sections = _sections(text)
    assert list(sections) == ["run", "returned", "anytime", "proxies", "comparison", "workers", "failures"]
    assert "<script src=" not in text and "<link" not in text  # self-contained: nothing fetched
    assert 'class="empty"' not in sections["anytime"] + sections["proxies"] + sections["comparison"]
    assert sections["anytime"].index("Test accuracy of the arch returned") < sections["anytime"].index("Oracle")
    assert "rea-s1" in sections["returned"] and "read once" in sections["returned"]
    assert "synflow: non-finite value (inf)" in sections["failures"]
    assert "Paired Wilcoxon" in sections["comparison"]
    assert len(re.findall(r"Plotly\.newPlot\(", text)) >= 6


def test_report_without_ground_truth_says_why_sections_are_empty(tmp_path, truth):  # noqa: F811
    log = write_log(tmp_path / "log", truth, algorithms={"rea": 0.6}, seeds=(0,), with_validate=False)
    out = write_report(log, tmp_path / "r.html", top_k=TOP_K, n_resamples=0)
    sections = _sections(out.read_text())
    assert "no anytime curve" in sections["anytime"] and "pass --benchmark PATH" in sections["anytime"]
    assert "no ground truth: pass --benchmark PATH" in sections["proxies"]
    assert "no search has returned an arch yet" in sections["returned"]
    assert "Plotly.newPlot" in sections["workers"]


def test_report_of_a_run_in_progress_reads_what_is_on_disk(tmp_path, truth):  # noqa: F811
    log = write_log(tmp_path / "log", truth, algorithms={"rea": 0.6}, seeds=(0, 1))
    run_dir = next(log.glob("run=*"))
    parts = sorted(run_dir.glob("part-*.parquet"))
    for extra in parts[len(parts) // 2 :]:  # the later part files are not written yet
        extra.unlink()
    out = write_report(log, tmp_path / "r.html", top_k=TOP_K, n_resamples=0)
    text = out.read_text()
    assert "searches that returned an arch" in text and "still running" in text


def test_report_of_a_darts_log_with_a_validation_only_benchmark(tmp_path, darts_csv):
    with open(darts_csv, newline="") as fh:
        table = list(csv.DictReader(fh))[:200]
    from zeronas.spaces import get_space

    darts = get_space("darts")
    archs = [darts.validate(r["genotype"]) for r in table]
    valid = [float(r["cifar10_valid_acc_nb301"]) for r in table]
    rng = np.random.default_rng(0)
    with LogWriter(tmp_path / "log", "darts-run", ["meco"], config={}) as writer:
        for seed in (0, 1):
            order = rng.permutation(len(archs))[:40]
            rows = []
            for it, i in enumerate(order, start=1):
                score = valid[i] + rng.normal(0, 1)
                rows.append({"search_id": f"random-s{seed}", "algorithm": "random", "seed": seed, "space": "darts",
                             "dataset": "cifar10", "stage": "proxy", "arch": archs[i], "score": score,
                             "proxy_meco": score, "proxy_seconds": 0.1, "worker_id": "w0", "node": "n0",
                             "iteration": it, "elapsed": 0.1 * it, "timestamp": 1.78e9 + 0.1 * it})  # fmt: skip
            top = sorted(rows, key=lambda r: -r["score"])[:TOP_K]
            for rank, r in enumerate(top, start=1):
                writer.append({**r, "stage": "validate", "iteration": rank, "accuracy": valid[archs.index(r["arch"])],
                               "accuracy_source": "cifar10_valid_acc_nb301"})  # fmt: skip
            writer.append({**top[0], "stage": "test", "accuracy": None, "accuracy_source": None,
                           "error": "the benchmark holds no test accuracy for this dataset"})  # fmt: skip
            writer.extend(rows)
    out = write_report(tmp_path / "log", tmp_path / "r.html", benchmark=darts_csv, top_k=TOP_K, n_resamples=0)
    sections = _sections(out.read_text())
    assert "Best validated accuracy" in sections["anytime"] and "Oracle" not in sections["anytime"]
    assert "validation-only" in sections["anytime"]
    assert "cifar10_valid_acc_nb301" in sections["proxies"] and "Plotly.newPlot" in sections["proxies"]


def test_report_refuses_a_bad_out_path(log_dir, tmp_path):
    with pytest.raises(ZeronasError, match="should end in .html"):
        write_report(log_dir, tmp_path / "r.pdf")
    with pytest.raises(ZeronasError, match="does not exist"):
        write_report(log_dir, tmp_path / "no" / "r.html")
