"""Run every benchmark and write bench/RESULTS.md: the one command for issue 11.

    .venv/bin/python bench/run.py                 # everything -> bench/RESULTS.md
    .venv/bin/python bench/run.py --only peers    # one section (markdown on stdout)
    .venv/bin/python bench/run.py --smoke         # one tiny case (what the test runs)
    .venv/bin/python bench/run.py --include baselines=FILE.md   # a section run on its own

``--include NAME=FILE`` takes a section's markdown from a separate run of its script
(its stdout, saved to FILE) instead of running it again: for the long baselines
section (about an hour). RESULTS.md says which sections were included, from when.

Each section is one bench script run as a subprocess with settings chosen so that
the whole run stays under 20 minutes on 2 cores; its markdown (stdout, or the file
given to its ``--out``) goes into the results under the exact command that made it.
A section that fails or runs past its time limit is recorded with its exit status
and the tail of its stderr, the run goes on, and the exit status is 1.
RESULTS.md starts with the machine, the package and tool versions and the date.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import os
import platform
import re
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PYTHON = ".venv/bin/python"
PACKAGES = (
    "mcuforge",
    "numpy",
    "scikit-learn",
    "optuna",
    "tensorflow",
    "emlearn",
    "m2cgen",
    "unicorn",
    "sktime",
)
TOOLS = ("arm-none-eabi-gcc", "qemu-system-arm", "gcc")
STDERR_TAIL = 40


@dataclass(frozen=True)
class Section:
    """One bench script and the arguments it runs with here.

    ``out_flag``: the script writes its markdown to the file given with this option
    (its stdout is progress); otherwise its stdout is the markdown.
    """

    name: str
    title: str
    script: str
    args: tuple[str, ...] = ()
    smoke: tuple[str, ...] | None = None  # arguments of the tiny case, if it has one
    out_flag: str | None = None
    timeout_s: float = 300.0

    def argv(self, smoke: bool) -> list[str]:
        args = self.smoke if smoke and self.smoke is not None else self.args
        return [f"bench/{self.script}", *args]


SECTIONS = (
    Section(
        "peers",
        "Classic-ML C vs emlearn and m2cgen",
        "peers.py",
        smoke=("--models", "dt", "--cores", "cortex-m4f"),
        timeout_s=180,
    ),
    Section("nn_vs_tflm", "Int8 networks vs TensorFlow Lite Micro", "nn_vs_tflm.py", timeout_s=240),
    Section(
        "baselines",
        "mcuforge with its defaults beside the plain baselines (7 archive sets, keywords)",
        "baselines.py",
        timeout_s=6000,
    ),
    Section(
        "baseline_spread",
        "How much a baseline moves with its seed",
        "baselines.py",
        (
            "--seed-spread",
            "10",
            "--datasets",
            "BasicMotions",
            "GunPoint",
            "ItalyPowerDemand",
            "JapaneseVowels",
            "ArrowHead",
            "OSULeaf",
            "PLAID",
        ),
        timeout_s=600,
    ),
    Section(
        "search_spread",
        "How much mcuforge moves with its search seed (the two sets under the bar)",
        "baselines.py",
        (
            "--search-seeds",
            "5",
            "--datasets",
            "ItalyPowerDemand",
            "PLAID",
            "--budgets",
            "m4f",
        ),
        timeout_s=3600,
    ),
    Section(
        "portfolio",
        "The shape-based recipes at their defaults vs plain baselines",
        "portfolio.py",
        timeout_s=300,
    ),
    Section(
        "augment",
        "Augmentation of training windows on the smallest archive set",
        "augment.py",
        timeout_s=300,
    ),
    Section(
        "pipeline",
        "Pipeline wall time on the bundled example",
        "accuracy.py",
        ("--example",),
        timeout_s=180,
    ),
    Section(
        "search",
        "Search: trials per minute, TPE vs random",
        "search.py",
        ("--trials", "30", "--seeds", "3"),
        timeout_s=480,
    ),
    Section(
        "features",
        "Feature blocks on Cortex-M0+ and M4F",
        "features.py",
        out_flag="--out",
        timeout_s=240,
    ),
    Section(
        "models",
        "Model zoo under two budgets",
        "models.py",
        ("--quick",),
        out_flag="--out",
        timeout_s=300,
    ),
    Section(
        "cost",
        "Analytic cost model vs measured cost",
        "cost_accuracy.py",
        (),
        timeout_s=900,
    ),
    Section("data_memory", "Peak memory of loading a 125 MB CSV", "data_memory.py", timeout_s=240),
    Section(
        "data_policies",
        "Short recordings: what each window policy keeps of PLAID",
        "data_policies.py",
        timeout_s=180,
    ),
    Section(
        "anomaly",
        "Anomaly detection: the deployed threshold beside plain detectors (one class normal)",
        "anomaly.py",
        timeout_s=2400,
    ),
)


@dataclass
class Outcome:
    section: Section
    command: str
    seconds: float
    returncode: int | None  # None: killed at the time limit
    markdown: str
    stderr: str
    notes: list[str] = field(default_factory=list)
    #: when the section was run separately and included: the date of its file
    included: str | None = None

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and bool(self.markdown.strip())


def _tail(text: str, n: int = STDERR_TAIL) -> str:
    return "\n".join(text.strip().splitlines()[-n:])


def run_section(section: Section, smoke: bool, work: Path) -> Outcome:
    """Run one section's script; never raises for the script's own failures."""
    argv = section.argv(smoke)
    out_file = work / f"{section.name}.md"
    if section.out_flag:
        argv += [section.out_flag, str(out_file)]
    shown = [*argv[:-1], "FILE.md"] if section.out_flag else argv
    command = shlex.join([PYTHON, *shown])
    if not (ROOT / argv[0]).is_file():
        return Outcome(section, command, 0.0, 127, "", f"{argv[0]} does not exist")
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, *argv],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env=env,
            timeout=section.timeout_s,
        )
        code: int | None = proc.returncode
        stdout, stderr = proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as exc:
        code = None
        stdout = _text(exc.stdout)
        stderr = _text(exc.stderr) + f"\nkilled after the {section.timeout_s:.0f} s limit"
    seconds = time.perf_counter() - t0
    markdown = stdout
    if section.out_flag:
        markdown = out_file.read_text() if out_file.is_file() else ""
    return Outcome(section, command, seconds, code, markdown.strip(), stderr)


def include_section(section: Section, path: Path) -> Outcome:
    """A section's markdown from a separate run of its script (saved stdout)."""
    markdown = path.read_text().strip()
    total = re.search(r"^Total: (\d+) s\.$", markdown, re.M)
    mtime = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    command = shlex.join([PYTHON, *section.argv(False)])
    seconds = float(total.group(1)) if total else 0.0
    code = 0 if markdown else 1
    return Outcome(section, command, seconds, code, markdown, "", included=mtime)


def _text(b: bytes | str | None) -> str:
    if b is None:
        return ""
    return b if isinstance(b, str) else b.decode(errors="replace")


def demote(markdown: str, top: int = 3) -> str:
    """Shift the section's headings so its highest one is level ``top`` (outside code)."""
    lines = markdown.splitlines()
    fence = False
    levels = []
    for line in lines:
        if line.startswith("```"):
            fence = not fence
        elif not fence and (m := re.match(r"(#+) ", line)):
            levels.append(len(m.group(1)))
    if not levels:
        return markdown
    shift = max(top - min(levels), 0)
    out, fence = [], False
    for line in lines:
        if line.startswith("```"):
            fence = not fence
        elif not fence and re.match(r"#+ ", line):
            line = "#" * shift + line
        out.append(line)
    return "\n".join(out)


#: A script's own bare "Command: `...`" line (with at most its time): run.py writes one.
_BARE_COMMAND = re.compile(r"Command: `[^`]*`( \(\d+ s\))?\.?")


def _drop_title(markdown: str) -> str:
    """The section's markdown without its own top heading and bare command line."""
    lines = markdown.strip().splitlines()
    if lines and lines[0].startswith("#"):
        lines = lines[1:]
    lines = [line for line in lines if not _BARE_COMMAND.fullmatch(line.strip())]
    return "\n".join(lines).strip()


# --- provenance ---------------------------------------------------------------------------


def machine() -> list[str]:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "unknown"
    meminfo = Path("/proc/meminfo")
    if meminfo.is_file():
        m = re.search(r"MemTotal:\s+(\d+) kB", meminfo.read_text())
        if m:
            mem = f"{int(m.group(1)) / 1024**2:.1f} GiB"
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return [
        f"- CPU: {cpu}, {usable} usable cores ({os.cpu_count()} online)",
        f"- memory: {mem}",
        f"- OS: {platform.platform()}; Python {platform.python_version()}",
    ]


def versions() -> list[str]:
    rows = []
    for pkg in PACKAGES:
        try:
            v = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            v = "not installed"
        rows.append(f"| {pkg} | {v} |")
    for tool in TOOLS:
        try:
            first = subprocess.run(
                [tool, "--version"], capture_output=True, text=True, check=False
            ).stdout.splitlines()
            v = first[0].strip() if first else "?"
        except FileNotFoundError:
            v = "not installed"
        rows.append(f"| {tool} | {v} |")
    return ["| package / tool | version |", "| --- | --- |", *rows]


def results_markdown(outcomes: list[Outcome], total: float, command: str) -> str:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    failed = [o for o in outcomes if not o.ok]
    lines = [
        "# mcuforge benchmarks",
        "",
        f"Written by `{command}` on {now}; total wall time {total / 60:.1f} min "
        f"({total:.0f} s), sections run one after another.",
        "",
        "## Machine",
        "",
        *machine(),
        "",
        "## Versions",
        "",
        *versions(),
        "",
        "## Sections",
        "",
        "| section | status | time | command |",
        "| --- | --- | ---: | --- |",
    ]
    for o in outcomes:
        status = "ok" if o.ok else ("timed out" if o.returncode is None else "FAILED")
        if o.included:
            status += f" (run separately, finished {o.included})"
        lines.append(f"| {o.section.name} | {status} | {o.seconds:.0f} s | `{o.command}` |")
    if failed:
        lines += [
            "",
            f"**{len(failed)} section(s) failed**: "
            + ", ".join(o.section.name for o in failed)
            + ".",
        ]
    for i, o in enumerate(outcomes, 1):
        body = _drop_title(o.markdown) if o.markdown else ""
        lines += ["", f"## {i}. {o.section.title}", ""]
        own = f"Command: `{o.command}` ("
        if body.startswith(own):
            # the section states its own run (when, which commit): one line, not two
            took = "" if o.included else f"{o.seconds:.0f} s; "
            body = f"{own}run from the repository root; {took}{body[len(own) :]}"
        else:
            lines += [
                f"Command: `{o.command}` (run from the repository root; {o.seconds:.0f} s"
                + (
                    f"; run on its own on this machine, finished {o.included})."
                    if o.included
                    else ")."
                ),
                "",
            ]
        if not o.ok:
            why = (
                "killed at its time limit"
                if o.returncode is None
                else (f"exit status {o.returncode}" if o.returncode else "no markdown output")
            )
            lines += [
                f"**Failed** ({why}). Last lines of its stderr:",
                "",
                "```text",
                _tail(o.stderr) or "(empty)",
                "```",
                "",
            ]
        if body:
            lines += [demote(body), ""]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    names = [s.name for s in SECTIONS]
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=names, action="append", help="run this section (repeat)")
    ap.add_argument("--smoke", action="store_true", help="only the tiny cases (for the tests)")
    ap.add_argument(
        "--out",
        type=Path,
        default=None,
        help="results file (default: bench/RESULTS.md for a full run, "
        "stdout with --only or --smoke)",
    )
    ap.add_argument(
        "--include",
        action="append",
        default=[],
        metavar="NAME=FILE",
        help="take this section's markdown from FILE (a separate run of its script)",
    )
    args = ap.parse_args(argv)
    included: dict[str, Path] = {}
    for item in args.include:
        name, sep, file = item.partition("=")
        if not sep or name not in names or not Path(file).is_file():
            ap.error(f"--include {item}: expected NAME=FILE with NAME one of {names}")
        included[name] = Path(file)
    if args.smoke:
        chosen = [s for s in SECTIONS if s.smoke is not None]
    else:
        chosen = [s for s in SECTIONS if not args.only or s.name in args.only]
    out: Path | None = args.out
    if out is None and not args.smoke and not args.only:
        out = BENCH / "RESULTS.md"
    command = shlex.join([PYTHON, "bench/run.py", *(sys.argv[1:] if argv is None else argv)])
    t0 = time.perf_counter()
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="mcuforge-bench-") as tmp:
        for section in chosen:
            if section.name in included:
                continue  # read at the end: its run may still be finishing
            print(f"bench: {section.name} ...", file=sys.stderr, flush=True)
            o = run_section(section, args.smoke, Path(tmp))
            status = "ok" if o.ok else "FAILED"
            print(
                f"bench: {section.name} {status} in {o.seconds:.0f} s", file=sys.stderr, flush=True
            )
            outcomes.append(o)
    done = {o.section.name: o for o in outcomes}
    for section in chosen:
        if section.name in included:
            done[section.name] = include_section(section, included[section.name])
    outcomes = [done[s.name] for s in chosen]
    text = results_markdown(outcomes, time.perf_counter() - t0, command)
    if out is None:
        print(text)
    else:
        out.write_text(text)
        print(f"bench: wrote {out}", file=sys.stderr)
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
