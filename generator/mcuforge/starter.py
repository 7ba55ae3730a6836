"""``mcuforge init``: inspect a folder of recordings and write a commented starter spec.

:mod:`._starter_inspect` guesses the format (CSV, NPZ, WAV), the channels (numeric CSV
columns) grouped into sensors, the labels (class folders, or a text column), the sample
rate (from a time column, the WAV header, or a stated default), the shortest recording
and the archive's own train/test split; every guess is marked in a comment. The spec's
paths are relative to the spec, its name comes from the data's folder (the folder above
a folder named ``data``), and its first line points editors at ``spec.schema.json``
beside it (:data:`SCHEMA_FILE`, written by ``mcuforge init -o``).
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path

from ._starter_inspect import Dialect, Guess, inspect, is_number, sensors, unit_of
from .spec import check_c_prefix, nearest_samples

#: The JSON Schema beside the spec that its ``$schema`` line names. A copy, not a path
#: into the installed package (which breaks when the virtualenv moves or the spec is
#: used on another machine) nor a URL (mcuforge publishes none): it works offline, in
#: every editor, and matches the mcuforge that wrote the spec
#: (``mcuforge schema spec -o spec.schema.json`` refreshes it).
SCHEMA_FILE = "spec.schema.json"
#: Folder names that say nothing about the project; the spec is named after the folder above.
GENERIC_FOLDERS = ("data", "dataset", "datasets", "recordings", "raw", "csv", "wav", "npz")


_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_./\-]*$")
_KEYWORDS = ("true", "false", "null", "yes", "no", "on", "off")


def _scalar(text: str) -> str:
    """``text`` as a YAML flow scalar: plain when safe, else a double-quoted string."""
    if _PLAIN.fullmatch(text) and text.lower() not in _KEYWORDS:
        return text
    return json.dumps(text)  # a JSON string is a YAML double-quoted scalar


def _comment(line: str) -> str:
    """A line (or a comment) with no line break from the data in it."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in line)


def _data_lines(g: Guess, rel: str) -> list[str]:
    """The ``data:`` section of the starter spec (names from the data quoted as needed)."""
    labels = (
        (
            f"{{from: file_name, pattern: {json.dumps(g.name_pattern)}}}"
            if g.name_pattern
            else "{from: file_name}"
        )
        if g.from_name
        else "{from: folder}"
        if g.labels == "folder"
        else f"{{from: column, column: {_scalar(g.labels)}}}"
    )
    if g.table:
        return [
            "data:",
            "  format: csv",
            f"  path: {_scalar(rel)}",
            "  csv: {layout: table}          # one example per row, its label in a column",
            "  sensors:",
            f"    - {{name: features, channels: [{', '.join(map(_scalar, g.channels))}]}}",
            f"  labels: {labels}",
            _split_line(g)
            if g.subject_column
            else "  split: {by: file, test: 0.25, seed: 0}   # by row"
            + ("" if "regression" in _task(g) else ", stratified per class"),
        ]
    length_s = _length_s(g)
    groups = [
        f"    - {{name: {_scalar(s)}, channels: [{', '.join(map(_scalar, ch))}], "
        f"rate_hz: {g.rate_hz:g}"
        + (
            f", unit: {_scalar(u)}}}  # the unit the columns state"
            if (u := unit_of(ch))
            else "}" + ("  # unit: set it (g, dps, …)" if g.fmt != "wav" else "")
        )
        for s, ch in sensors(g.channels)
    ]
    csv = ["layout: segments"] if g.segments else []
    if g.long:
        csv += [
            "layout: long",
            f"channel_column: {_scalar(g.long[0])}",
            f"value_column: {_scalar(g.long[1])}",
        ]
    if g.time_column:
        csv.append(f"time_column: {_scalar(g.time_column)}")
        if g.time_unit != "s":
            csv.append(f"time_unit: {g.time_unit}")
    if g.delimiter != ",":
        csv.append(f"delimiter: {json.dumps(g.delimiter)}")
    if g.decimal != ".":
        csv.append(f"decimal: {json.dumps(g.decimal)}")
    time = []
    if csv:
        why = (
            "   # the time column is not a channel; `mcuforge data check` looks for gaps "
            "and jitter in it"
            if g.time_column
            else ""
        )
        time = [_comment(f"  csv: {{{', '.join(csv)}}}{why}")]
    return [
        "data:",
        f"  format: {g.fmt}",
        f"  path: {_scalar(rel)}",
        "  sensors:",
        *groups,
        f"  labels: {labels}",
        *time,
        _comment(
            f"  window: {{length_s: {length_s:g}, stride_s: {length_s / 2:g}"
            + (", short: drop}" if g.short_drop else "}")
            + f"   # shortest recording: {g.samples_min} samples ({g.shortest})"
        ),
        _split_line(g),
    ]


def _split_line(g: Guess) -> str:
    subject = (
        f"subject_column: {_scalar(g.subject_column)}"
        if g.subject_column
        else f"subject_pattern: {json.dumps(g.subject_pattern)}"
        if g.subject_pattern
        else ""
    )
    if subject and not g.test_files:
        return _comment(
            f"  split: {{by: subject, {subject}, test: 0.25, seed: 0}}   # no subject in "
            "train and test"
        )
    if not g.test_files:
        return "  split: {by: file, test: 0.25, seed: 0}"
    globs = ", ".join(_scalar(p) for p in g.test_files)
    folds = f", by: subject, {subject}" if subject else ""
    why = "; cross-validation by subject" if subject else ""
    return _comment(
        f"  split: {{test_files: [{globs}]{folds}}}   # the data's own split: {g.held_out} "
        f"files held out{why}"
    )


def _length_s(g: Guess) -> float:
    """The starter's window: 2 s (8 samples at least: one row a minute is 8 minutes), or
    the shortest recording when that is shorter."""
    return min(max(2.0, 8 / g.rate_hz), g.samples_min / g.rate_hz)


def _window_samples(g: Guess) -> int:
    return 1 if g.table else max(1, nearest_samples(_length_s(g) * g.rate_hz))


def _sram_kb(g: Guess) -> int:
    """16 kB, or, when the float32 input window alone needs more, a power of two that
    holds it twice (the window and a raw recipe's copy) with room to spare (at most the
    nrf52840's 256 kB); a note says so."""
    window_kb = _window_samples(g) * len(g.channels) * 4 / 1024
    need = 2 * window_kb + 8
    if need <= 16:
        return 16
    kb: int = min(256, 1 << math.ceil(math.log2(need)))
    g.notes.append(
        f"sram_kb {kb}: the input window alone is {window_kb:.1f} kB (float32); "
        "a shorter window or a lower rate needs less"
    )
    return kb


def _task(g: Guess) -> str:
    values = [Dialect(g.delimiter, g.decimal).number(c) for c in g.classes]
    numeric = bool(values) and all(is_number(c) for c in values)
    fractional = numeric and any(float(c) != round(float(c)) for c in values)
    if numeric and (fractional or len(g.classes) > 20):  # a number per example or sample
        return "task: {kind: regression, metric: rmse}"
    if len(g.classes) == 1:  # one class: its recordings are the normal ones
        normal = "" if g.classes[0] == "normal" else f", normal: [{_scalar(g.classes[0])}]"
        return _comment(f"task: {{kind: anomaly, metric: roc_auc{normal}}}")
    return "task: {kind: classification, metric: accuracy}"


def project_name(root: Path) -> str:
    """The spec's ``name`` (a C prefix) from the data's folder, or the one above a
    generic one: ``examples/basicmotions/data`` → ``basicmotions``."""
    folder = root.resolve()
    if folder.is_file():  # one data file: its name without the suffix
        folder = folder.with_suffix("")
    while folder.name.lower() in GENERIC_FOLDERS and folder.parent != folder:
        folder = folder.parent
    name = re.sub(r"[^A-Za-z0-9_]", "_", folder.name.lower()).strip("_")[:34] or "model"
    name = name if re.match(r"[a-z]", name) else f"m_{name}"
    try:
        return check_c_prefix(name)
    except ValueError:  # a C keyword (`long`), `main`, or the runtime's own `mcuforge`
        return f"my_{name}"


def starter_spec(root: Path, spec_dir: Path) -> str:
    """A commented spec for the data in ``root``, with paths relative to ``spec_dir``."""
    g = inspect(root)
    data, base = root.resolve(), spec_dir.resolve()
    # relative to the spec when they share a folder (a project); else absolute
    shared = Path(os.path.commonpath([data, base])) != Path(data.anchor)
    rel = Path(os.path.relpath(data, base)).as_posix() if shared else data.as_posix()
    name = project_name(root)
    out = "out"
    if base == data or data in base.parents:  # never inside the data: it would be read
        out = _scalar(Path(os.path.relpath(data.parent / f"{data.name}-out", base)).as_posix())
    sram_kb = _sram_kb(g)
    notes = "".join(f"#   - {_comment(n)}\n" for n in g.notes)
    task = _task(g)
    classes = (
        ""
        if "regression" in task
        else f", {len(g.classes)} class{'es' if len(g.classes) != 1 else ''} "
        f"({', '.join(g.classes[:8])}"
        f"{', …' if len(g.classes) > 8 else ''})"
    )
    lines = [
        f"# yaml-language-server: $schema={SCHEMA_FILE}",
        _comment(
            f"# Starter spec written by `mcuforge init {root}`: {g.files} {g.fmt.upper()} "
            f"file{'s' if g.files != 1 else ''}{classes}."
        ),
        "# Guesses to check:",
        notes.rstrip("\n") if notes else "#   - none",
        "version: 1",
        f"{'name: ' + name:<30} # also the C prefix: {name}_predict()",
        *_data_lines(g, rel),
        task,
        "target: nrf52840               # `mcuforge targets list`",
        f"budgets: {{sram_kb: {sram_kb}, flash_kb: 64, latency_ms: 20}}",
        "search: {trials: 30, seed: 0}",
        "recipe: auto                   # `mcuforge explain spec.yaml` shows the choice",
        f"output: {{dir: {out}, firmware: cmake-baremetal}}",
    ]
    return "\n".join(lines) + "\n"


__all__ = ["GENERIC_FOLDERS", "SCHEMA_FILE", "Guess", "inspect", "project_name", "starter_spec"]
