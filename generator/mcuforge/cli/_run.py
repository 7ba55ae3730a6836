"""Commands that run the pipeline: generate, search, lock, report, profile."""

from __future__ import annotations

from pathlib import Path

import click

from ._base import catalog_option, catalogs_of, json_option, logger, time_budget_option


@click.command()
@click.argument("spec", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Output directory (default: output.dir of the spec).",
)
@click.option(
    "--trials",
    type=click.IntRange(min=1),
    default=None,
    help="The study's total number of trials (a resumed study runs the rest).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace a non-empty output directory (and a study of another spec).",
)
@click.option(
    "--no-measure", is_flag=True, help="Skip cross-compiling and emulating (cost stays analytic)."
)
@click.option(
    "--locked",
    is_flag=True,
    help="Refuse to run unless mcuforge.lock exists and matches catalog and data.",
)
@click.option(
    "--storage", default=None, help="Optuna storage URL shared with `mcuforge search` workers."
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Local parallel worker processes for the search.",
)
@click.option(
    "--from-study",
    is_flag=True,
    help="Run no new trials: generate from the study's finished trials.",
)
@time_budget_option
@click.option("-q", "--quiet", is_flag=True, help="Print only errors and the result line.")
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="A line per trial (pruned and failed ones with why) instead of the progress line.",
)
@json_option
@catalog_option
def generate(
    spec: Path,
    out: Path | None,
    trials: int | None,
    force: bool,
    no_measure: bool,
    locked: bool,
    storage: str | None,
    jobs: int | None,
    from_study: bool,
    time_budget: float | None,
    quiet: bool,
    verbose: bool,
    as_json: bool,
    catalogs: tuple[Path, ...],
) -> None:
    """Search, generate C, check it against Python, measure it, write the firmware.

    With --json the result (mcuforge.api.GenerateOutcome: recipe, score, parity, cost with
    sources, Pareto set, paths) is printed on stdout as JSON; the log stays on stderr.

    \b
    Examples:
      mcuforge generate examples/basicmotions/spec.yaml --trials 20 --force
      mcuforge generate spec.yaml --storage postgresql://me@db/studies --from-study
    """
    from ..pipeline import generate as run

    res = run(
        spec,
        out,
        trials,
        force,
        logger(quiet),
        measure_cost=not no_measure,
        catalogs=catalogs_of(catalogs),
        locked=locked,
        storage=storage,
        jobs=jobs,
        from_study=from_study,
        verbose=verbose and not quiet,
        time_budget_s=time_budget,
    )
    if as_json:
        from ..api import outcome_of

        click.echo(outcome_of(res.out_dir, res.report).model_dump_json(indent=2))
        return
    r = res.report
    c = r["cost"]
    energy = c.get("energy_uj")
    click.echo(
        f"{res.out_dir}: {r['recipe']} test {r['metric']} {r['score']:.4f}; "
        f"flash {c['flash_bytes']['value'] / 1024:.2f} kB ({c['flash_bytes']['source']}), "
        f"sram {c['sram_bytes']['value'] / 1024:.2f} kB ({c['sram_bytes']['source']}), "
        f"latency {c['latency_ms']['value']:.3f} ms ({c['latency_ms']['source']})"
        + (f", energy {energy['value']:.3g} uJ ({energy['source']})" if energy else "")
        + f"; C == Python on {r['parity']['agree']}/{r['parity']['total']}"
    )


@click.command()
@click.argument("spec", type=click.Path(path_type=Path))
@click.option("--storage", default=None, help="Optuna storage URL shared by all workers.")
@click.option(
    "--trials", type=click.IntRange(min=1), default=None, help="The study's total number of trials."
)
@click.option(
    "--jobs", type=click.IntRange(min=1), default=None, help="Local parallel worker processes."
)
@click.option("--force", is_flag=True, help="Replace a study made for another spec.")
@time_budget_option
@click.option("-q", "--quiet", is_flag=True, help="Print only errors and the result line.")
@click.option("-v", "--verbose", is_flag=True, help="A line per trial, with why for pruned ones.")
@json_option
@catalog_option
def search(
    spec: Path,
    storage: str | None,
    trials: int | None,
    jobs: int | None,
    force: bool,
    time_budget: float | None,
    quiet: bool,
    verbose: bool,
    as_json: bool,
    catalogs: tuple[Path, ...],
) -> None:
    """Run search trials into a study without generating anything (a worker).

    With --json the result (mcuforge.api.SearchOutcome: every trial, the best, the
    Pareto set, what ended the search) is printed on stdout as JSON.

    \b
    Run on each machine, then finish with `mcuforge generate --storage URL --from-study`:
      mcuforge search spec.yaml --storage postgresql://me@db/studies --trials 200
    """
    from ..pipeline import search_only

    res = search_only(
        spec,
        storage,
        trials,
        jobs,
        force,
        catalogs_of(catalogs),
        logger(quiet),
        time_budget_s=time_budget,
        verbose=verbose and not quiet,
    )
    if as_json:
        from ..api import search_outcome

        click.echo(search_outcome(res).model_dump_json(indent=2))
        return
    best = next(t for t in res.trials if t.number == res.best_trial)
    click.echo(
        f"study {res.study_name}: {len(res.trials)} trials, "
        f"{sum(t.feasible for t in res.trials)} within budget; best #{best.number} "
        f"{best.recipe} score {best.score:.4f}"
    )


@click.command()
@click.argument("spec", type=click.Path(path_type=Path))
@click.option("--update", is_flag=True, help="Rewrite the lock from the current catalog and data.")
@catalog_option
def lock(spec: Path, update: bool, catalogs: tuple[Path, ...]) -> None:
    """Write or check mcuforge.lock beside the spec.

    Without --update an existing lock is checked; exit 2 when it differs.
    """
    from ..lock import LockError
    from ..pipeline import prepare, update_lock
    from ..spec import load_spec

    loaded = load_spec(spec)
    if update or not loaded.lock_path.is_file():
        path, diff = update_lock(spec, catalogs_of(catalogs))
        click.echo(f"wrote {path}" + "".join(f"\n  - {d}" for d in diff))
        return
    p = prepare(spec, catalogs_of(catalogs), locked=False)
    if p.notes:
        raise LockError(f"{loaded.lock_path} differs:\n" + "\n".join(f"  - {n}" for n in p.notes))
    click.echo(f"{loaded.lock_path}: up to date")


@click.command()
@click.argument("out_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
def report(out_dir: Path) -> None:
    """Render report.md and report.html again from an output directory."""
    from ..report import rerender

    rerender(out_dir)
    click.echo(f"rendered {out_dir / 'report.md'} and {out_dir / 'report.html'}")


@click.command()
@click.argument("data_dir", type=click.Path(exists=True, path_type=Path))
@click.option(
    "-o",
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the spec here (default, or -: print it).",
)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(data_dir: Path, out: Path | None, force: bool) -> None:
    """Inspect a folder of recordings (or one data file) and write a commented starter spec.

    With -o, the spec's JSON Schema is written beside it too (spec.schema.json, named
    by the spec's first line for editors; an existing one is kept).

    \b
    Example:
      mcuforge init data/ -o spec.yaml && mcuforge validate spec.yaml
    """
    from ..errors import OutputError
    from ..lock import write_atomic
    from ..schemas import schema_files
    from ..starter import SCHEMA_FILE, starter_spec

    if out is not None and str(out) == "-":
        out = None  # the usual spelling of standard output (it wrote a file named '-')
    text = starter_spec(data_dir, (out or Path("spec.yaml")).resolve().parent)
    if out is None:
        click.echo(text, nl=False)
        click.echo(f"for editors: `mcuforge schema -o {SCHEMA_FILE}` beside the spec", err=True)
        return
    if out.exists() and not force:
        raise OutputError(f"{out} exists; pass --force to overwrite it")
    out.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(out, text)
    schema = out.parent / SCHEMA_FILE
    wrote = f"wrote {out}"
    if schema.exists():
        wrote += f" (kept the existing {schema})"
    else:
        write_atomic(schema, schema_files()[SCHEMA_FILE])
        wrote += f" and {schema}"
    click.echo(f"{wrote}; check the guesses marked in its comments", err=True)


@click.command()
@click.argument("out_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option(
    "--port",
    required=True,
    help="Serial port of the board (/dev/ttyACM0) or a pyserial URL (socket://host:port).",
)
@click.option(
    "--baud", type=click.IntRange(min=1), default=115200, show_default=True, help="Serial speed."
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    help="Seconds to wait for a complete report.",
)
def profile(out_dir: Path, port: str, baud: int, timeout: float) -> None:
    """Measure a generated firmware on a real board over a serial port.

    Flash OUT_DIR/firmware built with `-DMCUFORGE_MODE=bench` first; the board sends a
    framed report (outputs, cycles, stack) that is checked against Python. Writes
    device.json, adds the device figures to report.json and calibration.json.

    \b
    Example:
      mcuforge profile out/ --port /dev/ttyACM0
    """
    from ..hardware.device import profile as run

    prof = run(out_dir, port, baud, timeout)
    c = prof.cost
    if prof.emulated:
        click.echo(
            f"{port}: {prof.check.agree}/{prof.check.total} windows equal to Python; the "
            "firmware runs in QEMU (its counter counts instructions, not a board's cycles): "
            "report.json and the calibration keep their figures; details in device.json"
        )
        return
    click.echo(
        f"{port}: {prof.check.agree}/{prof.check.total} windows equal to Python; "
        f"latency {c.latency_ms.value:.3f} ms ({c.latency_ms.source}), "
        f"sram {c.sram_bytes.value / 1024:.2f} kB ({c.sram_bytes.source})"
    )
