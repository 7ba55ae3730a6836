"""Analytic cost model vs measured cost, and the linked firmware against the budgets.

For every core and recipe (the recipe pinned at its default configuration, so the
same model is measured on every run) the bundled example is run through
``mcuforge.pipeline.generate`` with measurement on and budgets wide enough for every
core, and the report's rows are tabulated:

1. the analytic estimate of each figure against its measurement: the whole firmware's
   flash and SRAM against the ``linked`` firmware, features + model alone against the
   ``compiled``/``emulated`` figures, instructions against unicorn's exact count;
2. the linked whole-firmware flash and SRAM of the same models against the Cortex-M0+
   (atsamd21g18, 8 kB SRAM, 32 kB flash) and Cortex-M4F (nrf52840, 64 kB SRAM, 256 kB
   flash) budgets of sections 3 and 8;
3. what the firmware adds to features + model per core (linked minus compiled flash,
   static SRAM without the input buffer, stack of the whole run minus ``PREFIX_predict``'s):
   the ``runtime_*`` constants of ``recipes/cores.yaml``.

Goals: |error| <= 10 % for flash and SRAM, <= 25 % for instructions (issues 7 and 15).

    .venv/bin/python bench/cost_accuracy.py [--targets ...] [--recipes ...] [--out FILE]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "basicmotions"
TARGETS = ["nrf52840", "atsamd21g18", "stm32f103c8"]
RECIPES = ["imu-stats-forest", "imu-stats-mlp", "raw-cnn1d"]
#: goals for the figures the budgets check and for the instructions; features + model
#: alone (``model_*``) are shown without one
GOAL_PCT = {"flash_bytes": 10.0, "sram_bytes": 10.0, "instructions": 25.0}
#: wide budgets: every model is measured, not rejected (within the smallest part's SRAM)
BUDGETS = {"sram_kb": 16, "flash_kb": 60, "latency_ms": 1000}
#: the budgets of sections 3 and 8: label, target, SRAM kB, flash kB
PARTS = [
    ("Cortex-M0+ (atsamd21g18, 8 kB SRAM, 32 kB flash)", "atsamd21g18", 8, 32),
    ("Cortex-M4F (nrf52840, 64 kB SRAM, 256 kB flash)", "nrf52840", 64, 256),
]


def run_one(target: str, recipe: str, work: Path) -> dict[str, Any]:
    from mcuforge.pipeline import generate

    spec = yaml.safe_load((EXAMPLE / "spec.yaml").read_text())
    spec["target"] = target
    spec["recipe"] = recipe
    spec["budgets"] = BUDGETS
    spec["search"] = {"trials": 1, "seed": 7}
    spec["data"]["path"] = str(EXAMPLE / spec["data"]["path"])
    path = work / f"{target}-{recipe}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    t0 = time.monotonic()
    res = generate(path, work / f"{target}-{recipe}", force=True)
    report = json.loads((res.out_dir / "report.json").read_text())
    hw = report.get("hardware") or {}
    return {
        "target": target,
        "core": report["target"]["core"],
        "recipe": report["recipe"],
        "rows": report["measurements"],
        "cost": report["cost"],
        "alone": report.get("cost_model_only") or {},
        "linked": hw.get("linked") or {},
        "emulated": hw.get("emulated") or {},
        "compiled": hw.get("compiled") or {},
        "input_bytes": 4 * report["data"]["window_samples"] * len(report["data"]["channels"]),
        "seconds": round(time.monotonic() - t0),
    }


def _verdict(err: float | None, goal: float | None) -> str:
    return "" if err is None or goal is None else ("ok" if abs(err) <= goal else "MISS")


def accuracy_table(results: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| target | core | recipe | figure | analytic | measured | source | error % | goal |",
        "| --- | --- | --- | --- | ---: | ---: | --- | ---: | --- |",
    ]
    worst: dict[str, float] = {}
    for r in results:
        for row in r["rows"]:
            if row["figure"] == "latency_ms":  # instructions x CPI / clock: the same error
                continue
            err, goal = row["error_pct"], GOAL_PCT.get(row["figure"])
            if err is not None:
                worst[row["figure"]] = max(worst.get(row["figure"], 0.0), abs(err))
            lines.append(
                f"| {r['target']} | {r['core']} | {r['recipe']} | {row['figure']} | "
                f"{row['analytic']:g} | {row['measured']:g} | {row['source']} | "
                f"{'' if err is None else f'{err:+.1f}'} | {_verdict(err, goal)} |"
            )
    lines += ["", "Worst |error| per figure:", ""]
    for fig, w in worst.items():
        goal = GOAL_PCT.get(fig)
        verdict = "" if goal is None else (" (meets the goal)" if w <= goal else " (MISSES)")
        lines.append(f"- {fig}: {w:.1f} %{verdict}")
    return lines


def budget_table(results: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| budget | recipe | flash (linked) | of the flash budget | SRAM (linked) | "
        "of the SRAM budget | stack reserved | fits |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for label, target, sram_kb, flash_kb in PARTS:
        for r in (r for r in results if r["target"] == target):
            c = r["cost"]
            if c["flash_bytes"]["source"] != "linked":
                continue
            flash, sram = c["flash_bytes"]["value"], c["sram_bytes"]["value"]
            fits = flash <= flash_kb * 1024 and sram <= sram_kb * 1024
            lines.append(
                f"| {label} | {r['recipe']} | {flash / 1024:.2f} kB | "
                f"{100 * flash / (flash_kb * 1024):.0f} % | {sram / 1024:.2f} kB | "
                f"{100 * sram / (sram_kb * 1024):.0f} % | "
                f"{r['linked']['stack']['reserved_bytes']} B | {'yes' if fits else 'no'} |"
            )
    return lines


def overhead_table(results: list[dict[str, Any]]) -> list[str]:
    from mcuforge.catalog import load_catalog

    cat = load_catalog()
    lines = [
        "| core | recipe | flash: linked - compiled | cores.yaml | static SRAM: linked - "
        "model - input | cores.yaml | stack: whole-run peak - predict | cores.yaml |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        link, comp, emu = r["linked"], r["compiled"], r["emulated"]
        if not (link and comp and emu):
            continue
        core = cat.core(r["core"])
        flash = link["flash_bytes"] - r["alone"]["flash_bytes"]["value"]
        static = link["static_sram_bytes"] - comp["static_sram_bytes"] - r["input_bytes"]
        stack = link["stack"]["peak_bytes"] - emu["stack_bytes"]
        lines.append(
            f"| {r['core']} | {r['recipe']} | {flash:.0f} | {core.runtime_flash_bytes} | "
            f"{static} | {core.runtime_sram_bytes} | {stack} | {core.runtime_stack_bytes} |"
        )
    return lines


def markdown(results: list[dict[str, Any]], command: str) -> str:
    seconds = sum(r["seconds"] for r in results)
    lines = [
        "# Cost model accuracy: analytic vs measured",
        "",
        f"Command: `{command}` ({seconds} s).  ",
        f"Date: {dt.date.today().isoformat()}  ",
        "Example: examples/basicmotions (100 samples x 6 channels), each recipe pinned at "
        f"its default configuration, budgets {BUDGETS} (wide, so that every model is measured).",
        "",
        "Error = (analytic - measured) / measured. Goals: |error| <= 10 % for flash and SRAM, "
        "<= 25 % for instructions (latency is instructions x CPI / clock on both sides, so "
        "its error is the instructions' and is not repeated). `flash_bytes`/`sram_bytes` are "
        "the whole firmware the budgets check (`linked`: the sensor-mode firmware for a "
        "board, linked for the part's memory map, SRAM with the stack reserved from the "
        "peak measured in QEMU); `model_*` are features + model alone (`compiled` ELF "
        "sections; `emulated`: static SRAM + the stack of PREFIX_predict in unicorn); "
        "`instructions` is unicorn's exact count of the worst test window.",
        "",
        *accuracy_table(results),
        "",
        "The linked firmware of the same models against the Cortex-M0+ and Cortex-M4F budgets "
        "of sections 3 and 8 (flash and SRAM as the linker counts them, the input window of "
        "600 floats, 2.34 kB, included):",
        "",
        *budget_table(results),
        "",
        "What the firmware adds to features + model (the `runtime_*` constants of "
        "`recipes/cores.yaml` the estimate uses; flash differs by model because the "
        "runtime and the model share C library routines):",
        "",
        *overhead_table(results),
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--targets", nargs="+", default=TARGETS)
    ap.add_argument("--recipes", nargs="+", default=RECIPES)
    ap.add_argument("--out", type=Path, default=None, help="also write the markdown here")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mcuforge-bench-cost-") as tmp:
        results = [run_one(t, recipe, Path(tmp)) for t in args.targets for recipe in args.recipes]
    command = "python bench/cost_accuracy.py " + " ".join(sys.argv[1:] if argv is None else argv)
    text = markdown(results, command.strip())
    print(text)
    if args.out is not None:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
