"""The ``data`` section: files, sensors and channels, labels, windowing, split, checks."""

from __future__ import annotations

import math
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from ._common import MAX_SEED, Strict

#: Longest window, in samples (an hour of audio at 16 kHz is 57.6 million).
MAX_SAMPLES = 100_000_000


class Sensor(Strict):
    """One sensor: a group of channels sampled together."""

    name: str = Field(description="Sensor name, e.g. accel.", min_length=1)
    channels: list[str] = Field(
        description="Channel names: CSV columns (wide, table), channel values (long), or one "
        "name for a WAV file's single channel; in firmware order.",
        min_length=1,
    )
    unit: str | None = Field(
        default=None,
        description="Physical unit of the samples (g, m/s2, dps, rad/s, …); `data check` "
        "compares the values with the unit's usual range.",
    )
    rate_hz: float | None = Field(
        default=None,
        gt=0,
        description="Sample rate in hertz; required, except with `csv.layout: table`.",
    )


class Labels(Strict):
    """Where each recording's label comes from."""

    source: Literal["folder", "column", "file_name"] = Field(
        default="folder",
        alias="from",
        description="`folder`: the name of the folder holding the file; `column`: a column "
        "of the file (classification: one label per file, or per row with `csv.layout: "
        "table`; regression: a number per sample, a window's target is its mean over the "
        "window); `file_name`: the start of the file's name (`walk_01.csv`, Edge "
        "Impulse's `walk.4f2a.csv`: `walk`), or the first group of `pattern`.",
    )
    column: str | None = Field(default=None, description="Label column, with `from: column`.")
    pattern: str | None = Field(
        default=None,
        description="With `from: file_name`: a regular expression on the file's name whose "
        "first group is the label; default `^([^._\\-\\s]+)`, the name up to the first `.`, "
        "`_`, `-` or space.",
    )

    @model_validator(mode="after")
    def _column_needed(self) -> Labels:
        if self.source == "column" and not self.column:
            raise ValueError("`from: column` needs `column: NAME`")
        if self.pattern is not None:
            if self.source != "file_name":
                raise ValueError("`pattern` applies to `from: file_name` only")
            try:
                if re.compile(self.pattern).groups < 1:
                    raise ValueError("`pattern` needs one (group) for the label")
            except re.error as exc:
                raise ValueError(f"`pattern` is not a valid regular expression: {exc}") from exc
        return self

    def from_name(self, name: str) -> str | None:
        """The label in a file's name (``from: file_name``), or None when it has none."""
        m = re.search(self.pattern or FILE_NAME_LABEL, name)
        return m.group(1) if m and m.group(1) else None


#: The default label of a file name: its start, up to the first `.`, `_`, `-` or space.
FILE_NAME_LABEL = r"^([^._\-\s]+)"


def nearest_samples(samples: float) -> int:
    """Seconds x rate to whole samples: the nearest, a half rounding up (``round`` would
    take 2.5 to 2 and 3.5 to 4); products a float rounding below a half still count as
    the half (1.005 s x 100 Hz is 100.49999999999999)."""
    return math.floor(samples + 0.5 + 1e-12 * max(1.0, abs(samples)))


ShortPolicy = Literal["auto", "drop", "pad", "whole"]


class Window(Strict):
    """Windowing of each recording. Give length and stride in seconds or in samples."""

    length_s: float | None = Field(
        default=None,
        gt=0,
        description="Window length in seconds (to the nearest sample; a half sample rounds up).",
    )
    stride_s: float | None = Field(
        default=None,
        gt=0,
        description="Hop between windows in seconds (to the nearest sample, as `length_s`).",
    )
    length: int | None = Field(
        default=None, gt=0, le=MAX_SAMPLES, description="Window length in samples."
    )
    stride: int | None = Field(
        default=None, gt=0, le=MAX_SAMPLES, description="Hop between windows in samples."
    )
    short: ShortPolicy = Field(
        default="auto",
        description="Recordings shorter than the window. `auto`: dropped, counted and "
        "reported, and an error when more than `checks.max_dropped` of the recordings "
        "would go; `drop`: dropped, however many; `pad`: padded at the end to one window "
        "(with `pad_with`); `whole`: every recording, of any length, becomes exactly one "
        "window (see `fit`).",
    )
    pad_with: float | Literal["edge"] = Field(
        default="edge",
        description="Padding of `short: pad` (and `whole` with `fit: pad`): `edge` repeats "
        "the last sample, a number is written as is (the firmware must pad the same way).",
    )
    fit: Literal["resample", "pad"] = Field(
        default="resample",
        description="With `short: whole`: how a recording becomes `length` samples. "
        "`resample`: linear interpolation; `pad`: padded with `pad_with`, and a longer "
        "recording keeps its first `length` samples (counted as truncated).",
    )

    @model_validator(mode="after")
    def _one_of_each(self) -> Window:
        if (self.length_s is None) == (self.length is None):
            raise ValueError("give exactly one of `length_s` (seconds) or `length` (samples)")
        if self.stride_s is not None and self.stride is not None:
            raise ValueError("give at most one of `stride_s` or `stride`; default is the length")
        if isinstance(self.pad_with, float) and not math.isfinite(self.pad_with):
            raise ValueError("`pad_with` must be a finite number or `edge`")
        given = self.model_fields_set
        if "pad_with" in given and not (
            self.short == "pad" or (self.short == "whole" and self.fit == "pad")
        ):
            raise ValueError("`pad_with` needs `short: pad` (or `short: whole, fit: pad`)")
        if "fit" in given and self.short != "whole":
            raise ValueError("`fit` needs `short: whole`")
        return self

    def samples(self, rate_hz: float) -> tuple[int, int]:
        """Window length and stride in samples at ``rate_hz``."""
        length = (
            self.length
            if self.length is not None
            else nearest_samples((self.length_s or 0) * rate_hz)
        )
        if self.stride is not None:
            stride = self.stride
        elif self.stride_s is not None:
            stride = nearest_samples(self.stride_s * rate_hz)
        else:
            stride = length
        return max(length, 1), max(stride, 1)


class Split(Strict):
    """How windows are split into train and test; no recording is on both sides."""

    by: Literal["file", "subject"] = Field(
        default="file",
        description="Unit of the split: whole files (recordings; rows with `csv.layout: "
        "table`), or subjects (all files of one subject on one side; needs "
        "`subject_column`, `subject_pattern` or `subjects`). The search's cross-validation "
        "folds follow it; with `test_files` too, the test is those files (no subject may "
        "have files on both sides) and the folds keep each subject together.",
    )
    test: float = Field(
        default=0.25,
        gt=0,
        lt=1,
        description="Share of files (per class) or of subjects held out for the test set, to the "
        "nearest whole number (a half rounds up) and at least one on each side (a class of "
        "one file stays in training).",
    )
    seed: int = Field(default=0, ge=0, le=MAX_SEED, description="Seed of the random split.")
    test_files: list[str] | None = Field(
        default=None,
        description="Glob patterns (relative to `data.path`) of the test files; "
        "overrides `test`, e.g. the archive's own split.",
    )
    subject_column: str | None = Field(
        default=None,
        description="CSV column holding the subject id (same in every row of a file; per "
        "row with `csv.layout: table`).",
    )
    subject_pattern: str | None = Field(
        default=None,
        description="Regular expression on the file path (relative to `data.path`) whose "
        "first group is the subject id, e.g. `subject(\\d+)`.",
    )
    subjects: str | None = Field(
        default=None,
        description="A CSV file (relative to the spec) mapping files to subjects: columns "
        "`file` (relative to `data.path`) and `subject`.",
    )

    @model_validator(mode="after")
    def _subject(self) -> Split:
        sources = [s for s in (self.subject_column, self.subject_pattern, self.subjects) if s]
        if self.by == "subject" and not sources:
            raise ValueError(
                "`by: subject` needs `subject_column`, `subject_pattern` or `subjects`"
            )
        if len(sources) > 1:
            raise ValueError(
                "give one of `subject_column`, `subject_pattern` or `subjects`, not several"
            )
        if self.subject_pattern is not None:
            try:
                if re.compile(self.subject_pattern).groups < 1:
                    raise ValueError("`subject_pattern` needs one (group) for the subject id")
            except re.error as exc:
                raise ValueError(
                    f"`subject_pattern` is not a valid regular expression: {exc}"
                ) from exc
        return self


class CsvOptions(Strict):
    """How CSV files are laid out."""

    layout: Literal["wide", "long", "segments", "table"] = Field(
        default="wide",
        description="`wide`: one row per sample, one column per channel. `long` (tidy): one "
        "row per sample and channel, with the channel name and the value in two columns. "
        "`segments`: wide, with a label column that changes over time (a session annotated "
        "as it goes): each run of rows with one label (and one subject) is a recording, "
        "named `FILE:FIRST-LAST` by its lines; no window spans two runs and the split "
        "keeps each run on one side; rows with an empty label are left out. "
        "`table`: tabular data, one row per example (a feature vector, the channels are "
        "its columns) with its label in a column; every row is a window of length 1.",
    )
    channel_column: str = Field(default="channel", description="Long layout: channel name column.")
    value_column: str = Field(default="value", description="Long layout: value column.")
    time_column: str | None = Field(
        default=None,
        description="Time stamp column: the long layout orders rows by it; `data check` "
        "looks for gaps, jitter and a rate other than `rate_hz` in it.",
    )
    time_unit: Literal["s", "ms", "us", "ns"] = Field(
        default="s", description="Unit of `time_column`."
    )
    delimiter: str = Field(default=",", min_length=1, max_length=1, description="Field separator.")
    decimal: Literal[".", ","] = Field(
        default=".",
        description="Decimal separator of the numbers: `,` reads a European spreadsheet's "
        "export (`-0,1304`, with `delimiter: ';'`); cells of digits, one comma and digits "
        "are read as numbers, points between groups of three digits as thousands "
        "separators (`1.234,5`), a number written with a decimal point (`1.5`) is a bad "
        "cell; other text is left as it is.",
    )

    @model_validator(mode="after")
    def _separators(self) -> CsvOptions:
        if self.decimal == "," and self.delimiter == ",":
            raise ValueError(
                "`decimal: ','` needs another field separator: set `delimiter` too "
                "(`;` in a European spreadsheet's export)"
            )
        return self


class Checks(Strict):
    """Thresholds of the data checks (`mcuforge data check`, `validate`, `generate`)."""

    max_dropped: float = Field(
        default=0.1,
        ge=0,
        le=1,
        description="Share of recordings that may be dropped as shorter than the window "
        "before it is an error (with `window.short: auto`).",
    )
    min_recordings: int = Field(
        default=3, ge=1, description="A class with fewer recordings is a warning."
    )
    max_imbalance: float = Field(
        default=4.0,
        ge=1,
        description="A warning when the class with most windows has more than this many "
        "times the windows of the class with fewest.",
    )
    max_jitter: float = Field(
        default=0.2,
        gt=0,
        description="A warning when a sample interval (from `csv.time_column`) deviates from "
        "the file's mean interval by more than this share of it (gaps aside).",
    )
    gap: float = Field(
        default=2.0,
        gt=1,
        description="An interval longer than this many median intervals is a gap (a warning).",
    )
    rate_tolerance: float = Field(
        default=0.05,
        gt=0,
        description="A warning when a file's rate (from its time column) differs from "
        "`rate_hz` by more than this share.",
    )
    allow_copies: bool = Field(
        default=False,
        description="Accept recordings whose samples are in both train and test (a warning "
        "instead of an error), e.g. to compare with published results on an archive split "
        "that has such copies.",
    )
    ranges: dict[str, tuple[float, float]] = Field(
        default_factory=dict,
        description="Expected [min, max] per sensor or channel name, e.g. `accel: [-8, 8]`; "
        "default from the unit (g: ±16, m/s2: ±160, dps: ±2000, rad/s: ±35).",
    )

    @field_validator("ranges")
    @classmethod
    def _ordered(cls, ranges: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
        for name, (lo, hi) in ranges.items():
            if not lo < hi:
                raise ValueError(f"range of {name!r}: [{lo:g}, {hi:g}] needs min < max")
        return ranges


class Data(Strict):
    """The sensor data."""

    format: Literal["csv", "npz", "wav"] = Field(
        default="csv",
        description="`csv`: one file per recording with a header row (or one table, see "
        "`csv.layout`); `npz`: NumPy archives with `x` or `X` (samples, channels) or "
        "(recordings, samples, channels) and optional `y` (or `Y`; it wins over class "
        "folders); `wav`: one mono PCM file per recording, one folder per class (or the class "
        "at the start of each file's name, `labels: {from: file_name}`).",
    )
    path: str = Field(description="Folder (or one file) with the data, relative to the spec.")
    sensors: list[Sensor] = Field(min_length=1, description="Sensors and their channels.")
    labels: Labels = Field(default_factory=Labels, description="Where the labels come from.")
    csv: CsvOptions = Field(default_factory=CsvOptions, description="CSV layout options.")
    window: Window = Field(
        default_factory=lambda: Window(length=1),
        description="Window length and stride; required, except with `csv.layout: table` "
        "(every row is one window).",
    )
    split: Split = Field(default_factory=Split, description="Train/test split.")
    checks: Checks = Field(default_factory=Checks, description="Data check thresholds.")

    @field_validator("sensors")
    @classmethod
    def _same_rate(cls, sensors: list[Sensor]) -> list[Sensor]:
        rates = {s.rate_hz for s in sensors if s.rate_hz is not None}
        if len(rates) > 1:
            raise ValueError(
                f"sensors have different rates {sorted(rates)} Hz; resample the data to one rate"
            )
        names = [c for s in sensors for c in s.channels]
        dup = sorted({c for c in names if names.count(c) > 1})
        if dup:
            raise ValueError(f"channel names appear twice: {', '.join(dup)}")
        if any(not c.strip() for c in names):
            raise ValueError("a channel name is empty; name every channel (its CSV column)")
        sensor_names = [s.name for s in sensors]
        dup = sorted({n for n in sensor_names if sensor_names.count(n) > 1})
        if dup:
            raise ValueError(f"sensor names appear twice: {', '.join(dup)}; name each once")
        return sensors

    @model_validator(mode="after")
    def _format_rules(self) -> Data:
        if self.format == "wav":
            if len(self.channels) != 1:
                raise ValueError("`format: wav` reads mono files: give one sensor with one channel")
            if self.labels.source == "column":
                raise ValueError(
                    "`format: wav` takes labels from folders (`labels: {from: folder}`) or "
                    "file names (`labels: {from: file_name}`)"
                )
        if self.table:
            self._table_rules()
            return self
        if self.csv.layout == "segments" and (
            self.format != "csv" or self.labels.source != "column"
        ):
            raise ValueError(
                "`csv.layout: segments` cuts CSV files where their label column changes: "
                "`format: csv` and `labels: {from: column, column: NAME}`"
            )
        if "window" not in self.model_fields_set:
            raise ValueError("`window` is required: give `window: {length_s: ...}` or `length`")
        missing = [s.name for s in self.sensors if s.rate_hz is None]
        if missing:
            raise ValueError(f"sensor {', '.join(missing)}: `rate_hz` is required")
        return self

    def _table_rules(self) -> None:
        if self.format != "csv":
            raise ValueError("`csv.layout: table` needs `format: csv`")
        if self.labels.source != "column":
            raise ValueError(
                "`csv.layout: table` takes each row's label from a column: "
                "`labels: {from: column, column: NAME}`"
            )
        if self.window.samples(1.0)[0] != 1 or self.window.short != "auto":
            raise ValueError(
                "`csv.layout: table`: every row is one window of length 1; remove `data.window`"
            )
        if self.split.subject_pattern:
            raise ValueError(
                "`csv.layout: table`: rows have no path of their own for `subject_pattern`; "
                "use `subject_column` or `subjects`"
            )

    @property
    def table(self) -> bool:
        """True for tabular data (`csv.layout: table`): one row, one window of length 1."""
        return self.format == "csv" and self.csv.layout == "table"

    @property
    def channels(self) -> list[str]:
        return [c for s in self.sensors for c in s.channels]

    @property
    def rate_hz(self) -> float:
        """The sensors' rate (1 Hz for tabular data, where it has no meaning)."""
        return next((s.rate_hz for s in self.sensors if s.rate_hz is not None), 1.0)

    @property
    def modality(self) -> str:
        """``audio`` for WAV data, ``tabular`` for a table, ``imu`` when a sensor looks
        inertial, else ``timeseries``."""
        if self.format == "wav":
            return "audio"
        if self.table:
            return "tabular"
        inertial = {"g", "m/s2", "m/s^2", "dps", "deg/s", "rad/s"}
        if any((s.unit or "").lower() in inertial for s in self.sensors):
            return "imu"
        return "timeseries"


def default_range(unit: str | None) -> tuple[float, float] | None:
    """The usual full-scale range of a unit, or None when there is no usual one."""
    return _UNIT_RANGES.get((unit or "").lower())


_UNIT_RANGES: dict[str, tuple[float, float]] = {
    "g": (-16.0, 16.0),
    "m/s2": (-160.0, 160.0),
    "m/s^2": (-160.0, 160.0),
    "dps": (-2000.0, 2000.0),
    "deg/s": (-2000.0, 2000.0),
    "rad/s": (-35.0, 35.0),
}
