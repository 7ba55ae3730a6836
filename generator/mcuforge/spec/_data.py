"""The ``data`` section: files, sensors and channels, labels, windowing, split."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from ._common import MAX_SEED, Strict

#: Longest window, in samples (an hour of audio at 16 kHz is 57.6 million).
MAX_SAMPLES = 100_000_000


class Sensor(Strict):
    """One sensor: a group of channels sampled together."""

    name: str = Field(description="Sensor name, e.g. accel.", min_length=1)
    channels: list[str] = Field(
        description="Channel names: CSV columns (wide), channel values (long), or one name "
        "for a WAV file's single channel; in firmware order.",
        min_length=1,
    )
    unit: str | None = Field(default=None, description="Physical unit of the samples (g, dps, …).")
    rate_hz: float = Field(gt=0, description="Sample rate in hertz.")


class Labels(Strict):
    """Where each recording's label comes from."""

    source: Literal["folder", "column"] = Field(
        default="folder",
        alias="from",
        description="`folder`: the name of the folder holding the file; `column`: a column "
        "of the file (classification: one label per file; regression: a number per sample, "
        "a window's target is its mean over the window).",
    )
    column: str | None = Field(default=None, description="Label column, with `from: column`.")

    @model_validator(mode="after")
    def _column_needed(self) -> Labels:
        if self.source == "column" and not self.column:
            raise ValueError("`from: column` needs `column: NAME`")
        return self


class Window(Strict):
    """Windowing of each recording. Give length and stride in seconds or in samples."""

    length_s: float | None = Field(default=None, gt=0, description="Window length in seconds.")
    stride_s: float | None = Field(
        default=None, gt=0, description="Hop between windows in seconds."
    )
    length: int | None = Field(
        default=None, gt=0, le=MAX_SAMPLES, description="Window length in samples."
    )
    stride: int | None = Field(
        default=None, gt=0, le=MAX_SAMPLES, description="Hop between windows in samples."
    )

    @model_validator(mode="after")
    def _one_of_each(self) -> Window:
        if (self.length_s is None) == (self.length is None):
            raise ValueError("give exactly one of `length_s` (seconds) or `length` (samples)")
        if self.stride_s is not None and self.stride is not None:
            raise ValueError("give at most one of `stride_s` or `stride`; default is the length")
        return self

    def samples(self, rate_hz: float) -> tuple[int, int]:
        """Window length and stride in samples at ``rate_hz``."""
        length = self.length if self.length is not None else round((self.length_s or 0) * rate_hz)
        if self.stride is not None:
            stride = self.stride
        elif self.stride_s is not None:
            stride = round(self.stride_s * rate_hz)
        else:
            stride = length
        return max(length, 1), max(stride, 1)


class Split(Strict):
    """How windows are split into train and test; no recording is on both sides."""

    by: Literal["file", "subject"] = Field(
        default="file",
        description="Unit of the split: whole files (recordings), or subjects (all files "
        "of one subject on one side; needs `subject_column` or `subject_pattern`).",
    )
    test: float = Field(
        default=0.25,
        gt=0,
        lt=1,
        description="Share of files (per class) or of subjects held out for the test set.",
    )
    seed: int = Field(default=0, ge=0, le=MAX_SEED, description="Seed of the random split.")
    test_files: list[str] | None = Field(
        default=None,
        description="Glob patterns (relative to `data.path`) of the test files; "
        "overrides `test`, e.g. the archive's own split.",
    )
    subject_column: str | None = Field(
        default=None, description="CSV column holding the subject id (same in every row of a file)."
    )
    subject_pattern: str | None = Field(
        default=None,
        description="Regular expression on the file path (relative to `data.path`) whose "
        "first group is the subject id, e.g. `subject(\\d+)`.",
    )

    @model_validator(mode="after")
    def _subject(self) -> Split:
        if self.by == "subject" and not (self.subject_column or self.subject_pattern):
            raise ValueError("`by: subject` needs `subject_column` or `subject_pattern`")
        if self.subject_pattern is not None:
            import re

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

    layout: Literal["wide", "long"] = Field(
        default="wide",
        description="`wide`: one row per sample, one column per channel. `long` (tidy): one "
        "row per sample and channel, with the channel name and the value in two columns.",
    )
    channel_column: str = Field(default="channel", description="Long layout: channel name column.")
    value_column: str = Field(default="value", description="Long layout: value column.")
    time_column: str | None = Field(
        default=None, description="Long layout: rows are ordered by this column (else file order)."
    )
    delimiter: str = Field(default=",", min_length=1, max_length=1, description="Field separator.")


class Data(Strict):
    """The sensor data."""

    format: Literal["csv", "npz", "wav"] = Field(
        default="csv",
        description="`csv`: one file per recording with a header row; `npz`: NumPy archives "
        "with `x` (samples, channels) or (recordings, samples, channels) and optional `y`; "
        "`wav`: one mono PCM file per recording, one folder per class.",
    )
    path: str = Field(description="Folder (or one .npz file) with the data, relative to the spec.")
    sensors: list[Sensor] = Field(min_length=1, description="Sensors and their channels.")
    labels: Labels = Field(default_factory=Labels, description="Where the labels come from.")
    csv: CsvOptions = Field(default_factory=CsvOptions, description="CSV layout options.")
    window: Window = Field(description="Window length and stride.")
    split: Split = Field(default_factory=Split, description="Train/test split.")

    @field_validator("sensors")
    @classmethod
    def _same_rate(cls, sensors: list[Sensor]) -> list[Sensor]:
        rates = {s.rate_hz for s in sensors}
        if len(rates) > 1:
            raise ValueError(
                f"sensors have different rates {sorted(rates)} Hz; resample the data to one rate"
            )
        names = [c for s in sensors for c in s.channels]
        dup = sorted({c for c in names if names.count(c) > 1})
        if dup:
            raise ValueError(f"channel names appear twice: {', '.join(dup)}")
        return sensors

    @model_validator(mode="after")
    def _format_rules(self) -> Data:
        if self.format == "wav":
            if len(self.channels) != 1:
                raise ValueError("`format: wav` reads mono files: give one sensor with one channel")
            if self.labels.source != "folder":
                raise ValueError(
                    "`format: wav` takes labels from folders (`labels: {from: folder}`)"
                )
        return self

    @property
    def channels(self) -> list[str]:
        return [c for s in self.sensors for c in s.channels]

    @property
    def rate_hz(self) -> float:
        return self.sensors[0].rate_hz

    @property
    def modality(self) -> str:
        """``audio`` for WAV data, ``imu`` when a sensor looks inertial, else ``timeseries``."""
        if self.format == "wav":
            return "audio"
        inertial = {"g", "m/s2", "m/s^2", "dps", "deg/s", "rad/s"}
        if any((s.unit or "").lower() in inertial for s in self.sensors):
            return "imu"
        return "timeseries"
