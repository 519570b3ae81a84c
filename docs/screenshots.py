"""Screenshots of the built site for the README: ``make site-screenshots`` (after ``make docs``).

Headless Chromium (Debian's ``chromium`` package) opens three pages of ``site/`` from disk, the
home page, a reference page and the capacity notebook, and writes them to ``docs/images/``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "site"
#: Page of the site -> the screenshot's name.
PAGES = {
    "index.html": "site-home.png",
    "reference/ipv6alloc.html": "site-reference.png",
    "notebooks/capacity-planning.html": "site-notebook.png",
}
#: Chromium without a screen, without a network: every flag keeps it from reaching out.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def chromium() -> str:
    """The Chromium binary, or SystemExit naming the package to install."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise SystemExit("headless Chromium is needed: apt-get install chromium")
    return found


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run Chromium on a fresh profile with :data:`FLAGS` and ``args``."""
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [chromium(), *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def main() -> int:
    """Write one screenshot per page of :data:`PAGES` into ``docs/images/``."""
    out = ROOT / "docs" / "images"
    out.mkdir(exist_ok=True)
    for page, name in PAGES.items():
        path = SITE / page
        if not path.is_file():
            print(f"{path} is missing: run make docs first", file=sys.stderr)
            return 1
        done = run("--window-size=1280,900", f"--screenshot={out / name}", path.as_uri())
        if done.returncode != 0 or not (out / name).is_file():
            print(f"Chromium failed on {page}: {done.stderr[-500:]}", file=sys.stderr)
            return 1
        print(f"wrote {out / name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
