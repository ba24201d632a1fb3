"""Regenerate docs/img/report.png: a report opened in headless Chromium, a proxy-vs-accuracy point hovered.

    python docs/img/report_screenshot.py REPORT.html docs/img/report.png

REPORT.html comes from a real run; docs/report.md gives the commands.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))

from _browser import hover_text, open_report, problems  # noqa: E402


def main() -> None:
    from playwright.sync_api import sync_playwright

    report, out = Path(sys.argv[1]), Path(sys.argv[2])
    with sync_playwright() as pw:
        browser, page, errors = open_report(pw, report)
        try:
            found = problems(page, errors)
            if found:
                raise SystemExit(f"the report has problems: {found}")
            chart = page.locator("section#proxies .js-plotly-plot").first.get_attribute("id")
            page.evaluate("() => document.querySelector('section#proxies h2').scrollIntoView()")
            label = hover_text(page, chart, 0, 0)
            page.screenshot(path=str(out))
            print(f"wrote {out}; hovered: {label.splitlines()[0]}")
        finally:
            browser.close()


if __name__ == "__main__":
    main()
