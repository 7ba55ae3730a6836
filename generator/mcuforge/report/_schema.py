"""The report as a typed model: what ``report.json`` holds, validated before it is written
and exported as ``schema/report.schema.json`` (``mcuforge schema``), like the spec's.

Sections whose content depends on the run (the model's parameters, the profilers'
details, the data check) are open mappings; everything a program reading the report
relies on (score, parity, each cost figure with its source, the search, the firmware)
is typed. ``report_version`` changes when a typed field changes meaning.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

#: The version of the report format (``report_version`` in report.json).
REPORT_VERSION = 1

Source = Literal["analytic", "compiled", "emulated", "linked", "device"]


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Figure(_Closed):
    """One cost figure and how it was obtained."""

    value: float
    source: Source


class CostFigures(_Closed):
    """What features + model (or the whole firmware) cost; each figure with its source."""

    flash_bytes: Figure
    sram_bytes: Figure
    latency_ms: Figure
    instructions: Figure
    energy_uj: Figure | None = Field(
        default=None, description="Energy per inference, from datasheet figures (an estimate)."
    )


class DataFacts(_Closed):
    """The windows the model was trained and tested on."""

    train_windows: int
    test_windows: int
    window_samples: int
    stride_samples: int
    rate_hz: float | None
    channels: list[str]


class Parity(_Open):
    """The generated C against Python on the test windows (``agree`` of ``total``)."""

    agree: int
    total: int


class CloseCall(_Open):
    """A raced model of another recipe that scored as well as the chosen one, within
    what the training data can resolve."""

    trial: int
    recipe: str
    cv_score: float


class SearchFacts(_Open):
    """The search: trials, what stopped it, the chosen and the best trial."""

    trials: int
    feasible: int
    strategy: str
    objectives: list[str] = Field(default_factory=lambda: ["score"])
    seed: int
    best_trial: int
    chosen_trial: int
    pareto: list[int] = Field(default_factory=list)
    stopped_by: str = ""
    raced: int = Field(
        default=0,
        description="Configurations cross-validated again on other fold draws before the "
        "choice (search.rescore_top); their cv_score is the mean over every draw.",
    )
    race_rounds: int = Field(default=0, description="Rounds of that re-scoring that counted.")
    close_calls: list[CloseCall] = Field(
        default_factory=list,
        description="The best raced model of each other recipe whose mean cross-validation "
        "accuracy is within one training window of the chosen model's: the training data "
        "cannot tell them apart (accuracy only).",
    )


class FirmwareFacts(_Open):
    """The firmware project: its template and, when it ran, the QEMU self-test."""

    template: str
    dir: str = "firmware"
    qemu_machine: str | None = None
    qemu: dict[str, Any] | None = None
    steps: list[dict[str, Any]] | None = Field(
        default=None,
        description="How to build it ({what, commands}); absent for cmake-baremetal, whose "
        "steps (build, run in QEMU, build for the board) the report knows.",
    )


class Report(_Closed):
    """An mcuforge report (``report.json``)."""

    model_config = ConfigDict(extra="forbid", title="mcuforge report")

    report_version: Literal[1] = Field(description="Report format version.")
    mcuforge_version: str
    name: str = Field(description="The spec's name (the C prefix).")
    task: Literal["classification", "regression", "anomaly"]
    spec_sha256: str
    metric: str = Field(description="The task metric the search optimised.")
    maximize: bool = Field(description="Higher is better for the metric.")
    score: float = Field(description="The chosen model's test score.")
    cv_score: float | None = Field(
        description="Its cross-validated score in the search (the mean over every fold draw "
        "when the best configurations were re-scored)."
    )
    test_windows: int
    classes: list[str]
    confusion: list[list[int]] | None = Field(default=None, description="Classification.")
    regression: dict[str, Any] | None = Field(default=None, description="Regression.")
    roc: dict[str, Any] | None = Field(default=None, description="Anomaly detection.")
    parity: Parity
    cost: CostFigures = Field(description="What the budgets are checked against.")
    analytic_cost: CostFigures | None = Field(default=None, description="The search's estimate.")
    cost_model_only: CostFigures | None = Field(
        default=None, description="Features + model alone (the whole firmware is in cost)."
    )
    measurements: list[dict[str, Any]] = Field(description="Estimated vs measured figures.")
    notes: list[str]
    budgets: dict[str, Any]
    recipe: str = Field(description="The chosen recipe, name@version.")
    model: dict[str, Any] = Field(description="Family, parameters, feature blocks, size.")
    target: dict[str, Any]
    decisions: list[dict[str, Any]] = Field(description="Every recipe, chosen or not, and why.")
    search: SearchFacts
    tried: list[dict[str, Any]] = Field(
        default_factory=list, description="Candidates measured, in rank order."
    )
    firmware: FirmwareFacts
    hardware: dict[str, Any] = Field(default_factory=dict, description="Profilers' details.")
    test_vectors: dict[str, Any] | None = None
    stack: list[dict[str, Any]] = Field(default_factory=list)
    breakdown: dict[str, Any] = Field(default_factory=dict)
    tradeoff: list[dict[str, Any]] = Field(default_factory=list)
    data: DataFacts | None = None
    data_check: dict[str, Any] = Field(default_factory=dict)
    device: dict[str, Any] | None = Field(default=None, description="`mcuforge profile`.")


def validate_report(report: dict[str, Any]) -> Report:
    """The report as its typed model.

    Raises:
        pydantic.ValidationError: the mapping is not a report of this version.
    """
    return Report.model_validate(report)


__all__ = ["REPORT_VERSION", "CostFigures", "Figure", "Report", "validate_report"]
