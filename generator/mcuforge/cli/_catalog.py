"""Read-only commands: validate, explain, schema, targets, recipes, catalog validate."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
import yaml

from ._base import EXIT_FAIL, catalog_option, catalogs_of, json_option

if TYPE_CHECKING:
    from ..resolver import Plan
    from ..spec import Budgets


#: Data warnings of one check that ``validate`` prints (the others are counted).
SHOWN_PER_CHECK = 5


@click.command()
@click.argument("spec", type=click.Path(path_type=Path))
@json_option
@catalog_option
def validate(spec: Path, as_json: bool, catalogs: tuple[Path, ...]) -> None:
    """Check a spec as `generate` does before its search.

    Syntax and fields, ranges, catalogs and lock, target, recipes and budgets, the
    firmware template for the target, the profilers, the calibration file, the output
    folder, and the data as generate reads it (the data check's warnings are printed
    too; `mcuforge data check` shows everything). Prints every problem as
    FILE:LINE:COL: FIELD: MESSAGE and exits 2 (3 when nothing can fit the budgets); with
    --json prints {"ok": false, "errors": [{"file", "line", "col", "field", "message"},
    ...]} on stdout.
    """
    from ..data import data_error, data_root, data_sha256, preflight_hashes, report_lines
    from ..lock import differences, lock_of
    from ..preflight import preflight
    from ..resolver import update_command

    checked = preflight(spec, catalogs_of(catalogs))
    loaded = checked.loaded
    data_problems, hashes = preflight_hashes(loaded.spec, loaded.base_dir)
    errors = [p for p in data_problems if p.severity == "error"]
    data_warnings = [p for p in data_problems if p.severity == "warning"]
    # on screen, a check's first few (a rate off in every file once, with the count)
    shown = report_lines(data_warnings, limit=SHOWN_PER_CHECK)
    if errors:
        if not as_json:  # the warnings too, before the errors that stop
            for line in shown:
                click.echo(line, err=True)
        root = data_root(loaded.spec, loaded.base_dir)
        raise data_error(errors, root, loaded)
    plan = checked.plan
    lock_warnings: list[str] = []
    if checked.lock is not None:  # what generate would warn of (and --locked refuse)
        now = lock_of(plan, checked.catalog, data_sha256(hashes), hashes)
        lock_warnings = [
            f"{loaded.lock_path.name}: {d} (`{update_command(loaded.path)}` records it; "
            "`generate --locked` refuses it)"
            for d in differences(checked.lock, now, plan)
        ]
    recipes = [r.ref for r in plan.recipes]
    if as_json:
        warnings = [*(str(p) for p in data_warnings), *lock_warnings]
        click.echo(
            json.dumps(
                {"ok": True, "target": plan.target.name, "recipes": recipes, "warnings": warnings}
            )
        )
    else:
        for line in [*shown, *(f"warning: {w}" for w in lock_warnings)]:
            click.echo(line, err=True)
        click.echo(f"{spec}: ok (target {plan.target.name}, recipes {', '.join(recipes)})")


@click.command()
@click.argument("spec", type=click.Path(path_type=Path))
@json_option
@catalog_option
def explain(spec: Path, as_json: bool, catalogs: tuple[Path, ...]) -> None:
    """Show every recipe: chosen or rejected, and why."""
    from ..catalog import load_catalog
    from ..lock import pins, read_lock
    from ..resolver import nothing_fits, resolve
    from ..spec import load_spec

    loaded = load_spec(spec)
    folders = [*catalogs_of(catalogs), *(loaded.resolve_path(c) for c in loaded.spec.catalogs)]
    plan = resolve(
        loaded, load_catalog(folders), pins(read_lock(loaded.lock_path, loaded.path)), empty_ok=True
    )
    if not plan.recipes:  # every recipe and why, then why none fits (exit 3)
        if not as_json:
            _explained(plan, loaded.spec.budgets)
        nothing_fits(loaded, plan.decisions)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "target": plan.target.name,
                    "core": plan.target.core,
                    "decisions": [d.__dict__ for d in plan.decisions],
                },
                indent=2,
            )
        )
        return
    _explained(plan, loaded.spec.budgets)


def _explained(plan: Plan, b: Budgets) -> None:
    """The target, the budgets and one line per recipe: chosen or rejected, and why."""
    click.echo(
        f"target {plan.target.name} ({plan.target.core}, {plan.target.clock_mhz:g} MHz, "
        f"fpu {plan.target.fpu}); budgets flash {b.flash_kb:g} kB, sram {b.sram_kb:g} kB"
        + (f", latency {b.latency_ms:g} ms" if b.latency_ms else "")
    )
    for d in plan.decisions:
        click.echo(f"  {'chosen  ' if d.chosen else 'rejected'} {d.recipe:28} {d.reason}")


@click.command()
@click.argument(
    "kind", type=click.Choice(["spec", "recipe", "target", "all"]), default="spec", required=False
)
@click.option(
    "-o",
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Write to this file (a folder for `all`) instead of printing.",
)
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing; exit 1 when the file(s) at -o (default: this installation's "
    "schema/ folder) or the --readme are out of date.",
)
@click.option(
    "--readme",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Rewrite (or with --check, compare) the spec reference section of this README.",
)
def schema(kind: str, out: Path | None, check: bool, readme: Path | None) -> None:
    """Print or write the JSON Schema of specs (KIND: spec, recipe, target or all).

    \b
    Examples:
      mcuforge schema                          # the spec schema on stdout
      mcuforge schema -o spec.schema.json      # beside your spec, for your editor
      mcuforge schema all -o schema/ --readme README.md --check
    """
    from .._resources import data_dir
    from ..schemas import schema_files, update_readme

    files = schema_files()
    if out is None and not check and readme is None:
        if kind == "all":
            raise click.UsageError("`all` is three files: give their folder with -o")
        click.echo(files[f"{kind}.schema.json"], nl=False)
        return
    if out is None:  # --check of this installation's schema/ folder, or --readme alone
        places = {data_dir("schema") / n: t for n, t in files.items()} if check else {}
    elif kind == "all":
        places = {out / n: t for n, t in files.items()}
    else:
        places = {out: files[f"{kind}.schema.json"]}
    stale = _write(places, check)
    if readme is not None:
        text = readme.read_text()
        new = update_readme(text)
        if check and new != text:
            stale.append(str(readme))
        elif not check:
            readme.write_text(new)
            click.echo(f"updated the spec reference in {readme}", err=True)
    if stale:
        click.echo(f"stale: {', '.join(stale)}; run `mcuforge schema` to rewrite", err=True)
        sys.exit(EXIT_FAIL)


def _write(places: dict[Path, str], check: bool) -> list[str]:
    """Write each schema (or with ``check`` compare it); the stale paths."""
    stale = []
    for path, text in places.items():
        if check:
            if not path.is_file() or path.read_text() != text:
                stale.append(str(path))
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        click.echo(f"wrote {path}", err=True)
    return stale


@click.group()
def targets() -> None:
    """The microcontroller catalog."""


@targets.command("list")
@json_option
@catalog_option
def targets_list(as_json: bool, catalogs: tuple[Path, ...]) -> None:
    """Every target: core, clock, SRAM, flash, FPU."""
    from ..catalog import load_catalog

    cat = load_catalog(catalogs_of(catalogs))
    items = sorted(cat.targets.values(), key=lambda t: t.name)
    if as_json:
        click.echo(json.dumps([t.model_dump() for t in items], indent=2))
        return
    for t in items:
        click.echo(
            f"{t.name:14} {t.core:14} {t.clock_mhz:6g} MHz {t.sram_kb:6g} kB SRAM "
            f"{t.flash_kb:6g} kB flash  fpu {t.fpu:6} {t.vendor}"
        )


@targets.command("show")
@click.argument("name")
@json_option
@catalog_option
def targets_show(name: str, as_json: bool, catalogs: tuple[Path, ...]) -> None:
    """One target in full."""
    from ..catalog import load_catalog

    t = load_catalog(catalogs_of(catalogs)).target(name)
    if as_json:
        click.echo(json.dumps(t.model_dump(), indent=2))
    else:
        click.echo(yaml.safe_dump(t.model_dump(), sort_keys=False).rstrip())


@click.group()
def recipes() -> None:
    """The recipe catalog."""


@recipes.command("list")
@json_option
@catalog_option
def recipes_list(as_json: bool, catalogs: tuple[Path, ...]) -> None:
    """Every recipe (highest version) and what it is for."""
    from ..catalog import load_catalog

    cat = load_catalog(catalogs_of(catalogs))
    items = [cat.recipe(n) for n in sorted(cat.recipes)]
    if as_json:
        click.echo(
            json.dumps([r.model_dump(by_alias=True, exclude_none=True) for r in items], indent=2)
        )
        return
    for r in items:
        click.echo(f"{r.ref:28} {', '.join(r.applies.task):16} {r.description}")


@recipes.command("show")
@click.argument("ref")
@json_option
@catalog_option
def recipes_show(ref: str, as_json: bool, catalogs: tuple[Path, ...]) -> None:
    """One recipe in full (NAME or NAME@VERSION)."""
    from ..catalog import load_catalog

    r = load_catalog(catalogs_of(catalogs)).recipe(ref)
    data = r.model_dump(by_alias=True, exclude_none=True)
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        click.echo(yaml.safe_dump(data, sort_keys=False).rstrip())


@click.group()
def catalog() -> None:
    """User catalogs of recipes and targets."""


@catalog.command("validate")
@click.argument(
    "folders", nargs=-1, required=True, type=click.Path(file_okay=False, path_type=Path)
)
def catalog_validate(folders: tuple[Path, ...]) -> None:
    """Check every file of catalog folders (layered over the built-in one).

    Syntax and fields, the registry names of each recipe's pipeline and of each core's
    profilers, and each key and
    value of its search space and fixed values against the parameters its model family,
    feature blocks and the augmentation declare. Prints each problem as
    FILE:LINE:COL: FIELD: MESSAGE and exits 2 when there is one.
    """
    from ..catalog import collect_catalog
    from ..errors import CatalogError
    from ..hardware.measure import profiler_problems
    from ..recipe_check import catalog_problems
    from ..resolver import registry_problems

    cat, problems = collect_catalog(list(folders))
    mine = [f.resolve() for f in folders]
    problems += registry_problems(cat, mine) + profiler_problems(cat, mine)
    problems += catalog_problems(cat, mine)
    if problems:
        raise CatalogError("\n".join(str(p) for p in problems), problems)
    n_r = sum(len(v) for v in cat.recipes.values())
    click.echo(f"ok: {n_r} recipes, {len(cat.targets)} targets")
