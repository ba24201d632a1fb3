"""Open a report in headless Chromium (Debian's package, driven by Playwright; no browser download) and
list what is wrong with it: console errors, missing sections, charts that drew nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]  # fmt: skip
SECTIONS = ("run", "returned", "anytime", "proxies", "comparison", "workers", "failures")

#: per chart: its id and how many data points its traces drew (SVG paths / heatmap images)
_DRAWN = """() => [...document.querySelectorAll('.js-plotly-plot')].map(gd => ({
    id: gd.id,
    traces: (gd.data || []).length,
    drawn: gd.querySelectorAll('.scatterlayer .trace path, .boxlayer .trace path, .heatmaplayer image').length,
    svg: gd.querySelectorAll('svg.main-svg').length,
}))"""


def browser_available() -> bool:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return False
    return Path(CHROMIUM).is_file()


def open_report(playwright, path: Path):
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "request",
        lambda r: (
            errors.append(f"network request {r.url}")
            if not r.url.startswith(("file:", "data:", "blob:", "about:"))
            else None
        ),
    )
    page.goto(path.resolve().as_uri(), wait_until="load", timeout=30_000)
    page.wait_for_timeout(300)
    return browser, page, errors


def problems(page, errors: list[str]) -> list[str]:
    """Everything wrong with the open report."""
    found = [f"console: {e}" for e in errors]
    for sid in SECTIONS:
        if not page.locator(f"section#{sid} h2").count():
            found.append(f"section {sid} missing")
    undrawn = page.evaluate(
        "() => [...document.querySelectorAll('div.chart')].filter(c => !c.querySelector('.js-plotly-plot'))"
        ".map(c => c.querySelector('[id^=chart-]')?.id)"
    )
    found += [f"chart {c} not drawn" for c in undrawn]
    charts = page.evaluate(_DRAWN)
    if not charts:
        found.append("no chart")
    for c in charts:
        if not c["svg"] or not c["traces"] or not c["drawn"]:
            found.append(f"chart {c['id']} drew nothing ({c})")
    return found


def hover_text(page, chart_id: str, curve: int, point: int) -> str:
    """Move the mouse over one data point of a chart and return the hover label's text."""
    xy = page.evaluate(
        """([id, c, p]) => {
            const gd = document.getElementById(id);
            gd.scrollIntoView({block: 'nearest'});
            const trace = gd._fullData[c];
            const xa = gd._fullLayout[trace.xaxis.replace('x', 'xaxis')];
            const ya = gd._fullLayout[trace.yaxis.replace('y', 'yaxis')];
            const box = gd.getBoundingClientRect();
            const pt = gd.calcdata[c][p];
            return [box.left + xa._offset + xa.c2p(pt.x), box.top + ya._offset + ya.c2p(pt.y)];
        }""",
        [chart_id, curve, point],
    )
    page.mouse.move(*xy)
    page.wait_for_timeout(150)
    return page.evaluate(
        """id => {
            const text = document.querySelector(`#${id} .hoverlayer .hovertext text`);
            if (!text) return '';
            const lines = [...text.querySelectorAll('tspan.line')].map(t => t.textContent);
            return lines.length ? lines.join('\\n') : text.textContent;
        }""",
        chart_id,
    )
