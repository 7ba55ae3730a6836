"""report.html in a real browser: headless Chromium driven over the DevTools protocol.

Chromium is started with ``--remote-debugging-pipe`` and spoken to with the standard
library only (JSON messages separated by NUL bytes on file descriptors 3 and 4). The page
must load with no console error, no uncaught exception and no request other than the
file itself; every plot must lay out with a non-zero box; the budget lines must be drawn;
the trial table must sort. A full-page screenshot of each page is kept under
``.test-artifacts/report-browser/`` for a person to look at.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mcuforge.pipeline import generate
from mcuforge.report import render_html, write_reports

from .conftest import EXAMPLE, ROOT
from .test_report import TRIALS, base_report

ARTIFACTS = ROOT / ".test-artifacts" / "report-browser"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-pipe",
]
#: Seconds allowed for one DevTools answer (a page load included) on a busy 2-core machine.
TIMEOUT = 60.0

pytestmark = pytest.mark.slow


def _chromium() -> str:
    """Path of Debian's chromium, installed first when missing and running as root."""
    found = shutil.which("chromium")
    if found:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip(
            "chromium is not installed and only root can install it "
            "(apt-get install -y --no-install-recommends chromium)"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, capture_output=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"],
        check=True,
        env=env,
        capture_output=True,
    )
    found = shutil.which("chromium")
    assert found, "apt-get installed chromium but it is not on PATH"
    return found


class DevTools:
    """A Chromium process and one page, over the DevTools pipe."""

    def __init__(self, exe: str, profile: Path, log: Path) -> None:
        cmd_read, self._cmd = os.pipe()
        self._out, out_write = os.pipe()

        def fds() -> None:  # in the child: the pipe ends on fds 3 (commands) and 4 (answers)
            a = fcntl.fcntl(cmd_read, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(out_write, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self._log = log.open("wb")
        self.proc = subprocess.Popen(
            [exe, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=fds,
            pass_fds=(3, 4),
        )
        os.close(cmd_read)
        os.close(out_write)
        self._buf = b""
        self._next = 0
        self.events: list[dict[str, Any]] = []
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]

    def _message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._out], [], [], left)[0]:
                raise TimeoutError("no answer from chromium; see its log")
            chunk = os.read(self._out, 1 << 16)
            if not chunk:
                raise RuntimeError(f"chromium exited ({self.proc.poll()}); see its log")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        message: dict[str, Any] = json.loads(raw)
        return message

    def call(self, method: str, params: dict[str, Any] | None = None, page: bool = False) -> Any:
        """Send a command (to the page's session when ``page``) and return its result."""
        self._next += 1
        msg: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if page:
            msg["sessionId"] = self.session
        os.write(self._cmd, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT
        while True:
            answer = self._message(deadline)
            if answer.get("id") == self._next:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self.events.append(answer)

    def wait_for(self, method: str, since: int = 0) -> dict[str, Any]:
        """The first event ``method`` from ``events[since]`` on (received or still to come).

        ``since`` keeps an event of an earlier page from answering for the current one: a
        second page's load must not be taken for done on the first page's
        ``Page.loadEventFired`` (its plots would be counted while it is still parsed).
        """
        deadline = time.monotonic() + TIMEOUT
        for event in self.events[since:]:
            if event.get("method") == method:
                return event
        while True:
            event = self._message(deadline)
            self.events.append(event)
            if event.get("method") == method:
                return event

    def evaluate(self, expression: str) -> Any:
        """Value of a JavaScript expression in the page (awaited when a promise)."""
        result = self.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            page=True,
        )
        if "exceptionDetails" in result:
            raise AssertionError(f"script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, TimeoutError, OSError):
            self.call("Browser.close")
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._cmd, self._out):
            os.close(fd)
        self._log.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevTools]:
    exe = _chromium()
    tmp = tmp_path_factory.mktemp("chromium")
    tools = DevTools(exe, tmp / "profile", tmp / "chromium.log")
    try:
        yield tools
    finally:
        tools.close()


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """report.html of a real (small) run, and of a report with every optional section."""
    out = tmp_path_factory.mktemp("browser-report") / "out"
    generate(EXAMPLE / "spec.yaml", out, trials=4, force=True, measure_cost=False)
    report = json.loads((out / "report.json").read_text())
    with (out / "trials.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    real = out.parent / "real"
    real.mkdir()
    write_reports(real, report, rows)
    full = out.parent / "full"
    full.mkdir()
    everything = base_report(
        regression={"y_true": [1.0, 2.0, 3.0, 4.0], "y_pred": [1.2, 1.9, 3.3, 3.8]},
        roc={"fpr": [0.0, 0.1, 0.4, 1.0], "tpr": [0.0, 0.7, 0.9, 1.0], "auc": 0.87},
        breakdown={
            "flash": {"source": "compiled", "parts": {"features": 512, "model": 1280, "code": 256}},
            "sram": {"source": "analytic", "parts": {"features": 64, "arena": 96, "stack": 300}},
        },
        notes=["cost is analytic: no cross compiler for this core"],
    )
    (full / "report.html").write_text(render_html(everything, TRIALS))
    return {"real": real / "report.html", "full": full / "report.html"}


def _load(browser: DevTools, page: Path) -> list[dict[str, Any]]:
    """Open ``page``; return the events it caused from navigation to load."""
    start = len(browser.events)
    for domain in ("Page", "Runtime", "Log", "Network"):
        browser.call(f"{domain}.enable", page=True)
    browser.events = browser.events[:start]  # enabling replays old console messages
    browser.call("Page.navigate", {"url": page.as_uri()}, page=True)
    browser.wait_for("Page.loadEventFired", since=start)
    browser.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    return browser.events[start:]


_PLOTS_JS = """
Array.from(document.querySelectorAll('svg.plot-svg')).map(svg => {
  const box = svg.getBoundingClientRect();
  const content = svg.getBBox();
  return {name: svg.dataset.plot, width: box.width, height: box.height,
          contentWidth: content.width, contentHeight: content.height,
          paths: svg.querySelectorAll('path').length};
})
"""

BUDGET_LINES = (
    "pareto-latency-budget",
    "pareto-flash-budget",
    "pareto-sram-budget",
    "memory-budget-flash",
    "memory-budget-sram",
)
_BUDGETS_JS = (
    json.dumps(BUDGET_LINES)
    + """.map(id => {
  const g = document.getElementById(id);
  if (!g) { return {id: id, height: 0, stroke: null}; }
  const b = g.getBBox();
  return {id: id, height: b.height, stroke: getComputedStyle(g.querySelector('path')).stroke};
})"""
)

_SORT_JS = """
(() => {
  document.querySelector('#search details').open = true;
  const head = Array.from(document.querySelectorAll('#trials thead th'))
    .find(th => th.textContent.trim() === 'score');
  head.click(); head.click();
  const scores = Array.from(document.querySelectorAll('#trials tbody tr'))
    .map(tr => parseFloat(tr.cells[3].dataset.sort));
  const only = document.getElementById('only-feasible');
  only.click();
  const shown = Array.from(document.querySelectorAll('#trials tbody tr'))
    .filter(tr => !tr.hidden).length;
  only.click();
  return {scores: scores, shown: shown, order: head.getAttribute('aria-sort')};
})()
"""


def _problems(events: list[dict[str, Any]]) -> list[str]:
    out = []
    for e in events:
        p = e.get("params", {})
        if e.get("method") == "Runtime.exceptionThrown":
            out.append(f"exception: {p['exceptionDetails']}")
        elif e.get("method") == "Runtime.consoleAPICalled" and p.get("type") in (
            "error",
            "assert",
            "warning",
        ):
            out.append(f"console.{p['type']}: {p.get('args')}")
        elif e.get("method") == "Log.entryAdded" and p["entry"]["level"] in ("error", "warning"):
            out.append(f"log {p['entry']['level']}: {p['entry'].get('text')}")
    return out


def _screenshot(browser: DevTools, name: str) -> Path:
    height = browser.evaluate("document.documentElement.scrollHeight")
    browser.call(
        "Emulation.setDeviceMetricsOverride",
        {"width": 1280, "height": int(height), "deviceScaleFactor": 1, "mobile": False},
        page=True,
    )
    shot = browser.call("Page.captureScreenshot", {"format": "png"}, page=True)
    browser.call("Emulation.clearDeviceMetricsOverride", page=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


@pytest.mark.parametrize("name", ["real", "full"])
def test_report_renders_in_chromium(browser: DevTools, pages: dict[str, Path], name: str) -> None:
    page = pages[name]
    events = _load(browser, page)
    assert _problems(events) == []
    requested = [
        e["params"]["request"]["url"]
        for e in events
        if e.get("method") == "Network.requestWillBeSent"
    ]
    assert requested == [page.as_uri()], "the page loaded something besides itself"

    plots = browser.evaluate(_PLOTS_JS)
    names = {p["name"] for p in plots}
    expected = {"search-history", "pareto-latency", "pareto-flash", "pareto-sram", "memory"}
    expected |= (
        {"confusion", "data-windows"} if name == "real" else {"confusion", "residuals", "roc"}
    )
    assert names == expected
    for p in plots:
        assert p["width"] > 100 and p["height"] > 100, p
        assert p["contentWidth"] > 0 and p["contentHeight"] > 0 and p["paths"] > 10, p

    for line in browser.evaluate(_BUDGETS_JS):
        assert line["height"] > 20 and line["stroke"] == "rgb(192, 57, 43)", line

    shot = _screenshot(browser, name)
    assert shot.stat().st_size > 20_000

    sort = browser.evaluate(_SORT_JS)
    scores = [s for s in sort["scores"] if s is not None]  # NaN (failed trials) is null
    assert sort["order"] == "descending" and scores == sorted(scores, reverse=True)
    feasible = page.read_text().count('<tr class="feasible">')
    assert sort["shown"] == feasible
    assert _problems(browser.events) == []
