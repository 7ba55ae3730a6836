"""What the model must do and on what: the task and its metric, an inline target, the
budgets."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ._common import CoreName, Power, Strict

Metric = Literal["accuracy", "f1_macro", "balanced_accuracy", "mae", "rmse", "roc_auc"]
METRICS_FOR: dict[str, tuple[str, ...]] = {
    "classification": ("accuracy", "f1_macro", "balanced_accuracy"),
    "regression": ("rmse", "mae"),
    "anomaly": ("roc_auc", "balanced_accuracy", "f1_macro", "accuracy"),
}
#: Metrics where lower is better; every other metric is maximised.
ERROR_METRICS = frozenset({"mae", "rmse"})


class Task(Strict):
    """What the model must do."""

    kind: Literal["classification", "regression", "anomaly"] = Field(
        default="classification",
        description="`classification`: one class per window; `regression`: a number per "
        "window; `anomaly`: normal or not, trained on normal windows only; the alarm "
        "threshold is set on held-out windows (a contiguous block of the normal ones, and "
        "the training split's anomalies) half-way between the scores that best balance "
        "missed anomalies and false alarms (without anomalies: the 95th percentile of the "
        "normal scores).",
    )
    metric: Metric | None = Field(
        default=None,
        description="Metric the search optimises and the report states. Default: accuracy "
        "(classification), rmse (regression), roc_auc (anomaly).",
    )
    min_score: float | None = Field(
        default=None,
        description="Fail (exit 3) when the test score is worse than this (for mae/rmse: the "
        "largest error accepted).",
    )
    normal: list[str] | None = Field(
        default=None,
        description="Anomaly detection: the labels of normal recordings (the others are "
        "anomalies). Default: the label `normal`.",
    )

    @model_validator(mode="after")
    def _metric_fits(self) -> Task:
        if self.metric is not None and self.metric not in METRICS_FOR[self.kind]:
            raise ValueError(
                f"metric {self.metric!r} does not apply to {self.kind}; use one of "
                f"{', '.join(METRICS_FOR[self.kind])}"
            )
        if self.normal is not None and self.kind != "anomaly":
            raise ValueError("`normal` applies to `kind: anomaly` only")
        m, least = self.resolved_metric, self.min_score
        if least is not None and self.maximize and not 0.0 <= least <= 1.0:
            raise ValueError(  # else the whole search runs before the test says so
                f"min_score {least:g} is out of reach: {m} lies between 0 and 1 "
                "(e.g. min_score: 0.9)"
            )
        if least is not None and not self.maximize and least < 0.0:
            raise ValueError(f"min_score {least:g} is out of reach: {m} is never below 0")
        return self

    @property
    def resolved_metric(self) -> str:
        """The metric in force: the given one, else the first of ``METRICS_FOR[kind]``."""
        return self.metric or METRICS_FOR[self.kind][0]

    @property
    def maximize(self) -> bool:
        return self.resolved_metric not in ERROR_METRICS


class InlineTarget(Strict):
    """A microcontroller described in the spec instead of named from the catalog."""

    name: str = Field(
        default="custom", pattern=r"^[a-z0-9][a-z0-9_\-]*$", description="A name for the report."
    )
    core: CoreName = Field(description="CPU core.")
    clock_mhz: float = Field(gt=0, description="Core clock in MHz.")
    sram_kb: float = Field(gt=0, description="Total SRAM in kB.")
    flash_kb: float = Field(gt=0, description="Total flash in kB.")
    fpu: Literal["none", "single", "double"] = Field(
        default="none", description="Floating-point unit."
    )
    dsp: bool = Field(default=False, description="Has the DSP/SIMD extension.")
    power: Power | None = Field(
        default=None,
        description="Datasheet run-mode current and supply voltage, for the energy per "
        "inference (`search.objectives: [score, energy]`).",
    )


class Budgets(Strict):
    """What the generated firmware may use on the target, and what the application needs."""

    sram_kb: float = Field(
        gt=0,
        description="SRAM the generated firmware may use, kB: the input window buffer, "
        "features, model and runtime, static and the stack it reserves (checked against "
        "the firmware linked for the part).",
    )
    flash_kb: float = Field(
        gt=0,
        description="Flash the generated firmware may use, kB: features, model, runtime and "
        "startup code with their constants (checked against the linked firmware; the "
        "self-test windows fill whatever flash is left and do not count).",
    )
    latency_ms: float | None = Field(
        default=None, gt=0, description="Time for one inference (features + model), ms."
    )
    app_sram_kb: float = Field(
        default=0, ge=0, description="SRAM the rest of your application needs, kB."
    )
    app_flash_kb: float = Field(
        default=0, ge=0, description="Flash the rest of your application needs, kB."
    )
