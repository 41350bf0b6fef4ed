"""Screenshot a grading report with headless Chromium: ``python scripts/report_screenshot.py OUT_DIR [PNG]``.

Writes ``PNG`` (default ``OUT_DIR/report.png``) from ``OUT_DIR/report.html`` (made by ``grader grade``, or
by ``grader.reports.html.write_report``). Needs Debian's ``chromium`` (``apt-get install chromium``); the
browser runs with a throw-away profile and everything that would reach the network switched off.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars")


def find_chromium() -> str | None:
    """The first Chromium-like browser on PATH (or /usr/bin/chromium), else None."""
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").is_file() else None


def run_chromium(html: Path, *action: str, browser: str | None = None, timeout: float = 120.0
                 ) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium on the local file ``html`` with ``action`` flags (``--dump-dom``, ``--screenshot=``)."""
    browser = browser or find_chromium()
    if browser is None:
        raise FileNotFoundError("no chromium found: apt-get install chromium")
    with tempfile.TemporaryDirectory(prefix="report-chromium-") as profile:
        return subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}", *action, html.resolve().as_uri()],
                              capture_output=True, text=True, timeout=timeout, check=False)


def screenshot(html: Path, png: Path, width: int = 1200, height: int = 1600) -> Path:
    """Write a ``width`` × ``height`` screenshot of ``html`` to ``png``; RuntimeError if none came out."""
    png = png.resolve()
    png.unlink(missing_ok=True)
    done = run_chromium(html, f"--screenshot={png}", f"--window-size={width},{height}")
    if not png.is_file() or png.stat().st_size == 0:
        raise RuntimeError(f"chromium wrote no screenshot (exit {done.returncode}): {done.stderr.strip()[-500:]}")
    return png


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out_dir", type=Path, metavar="OUT_DIR", help="a grader grade --out folder")
    parser.add_argument("png", type=Path, nargs="?", metavar="PNG", help="default: OUT_DIR/report.png")
    parser.add_argument("--width", type=int, default=1200)
    parser.add_argument("--height", type=int, default=1600)
    args = parser.parse_args(argv)
    html = args.out_dir / "report.html"
    if not html.is_file():
        parser.exit(2, f"report_screenshot: no {html} (run grader grade --out {args.out_dir} first)\n")
    try:
        png = screenshot(html, args.png or args.out_dir / "report.png", args.width, args.height)
    except (OSError, RuntimeError, subprocess.TimeoutExpired) as err:
        print(f"report_screenshot: {err}", file=sys.stderr)
        return 1
    print(f"wrote {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
