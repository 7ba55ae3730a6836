"""The command line: ``mcuforge validate|generate|schema|targets|recipes``.

Exit codes: 0 ok, 1 failure (toolchain, parity, internal), 2 usage or spec/catalog/data
error, 3 no candidate fits the budgets.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from . import __version__
from .errors import McuforgeError

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_BUDGET = 0, 1, 2, 3


class _Group(click.Group):
    """Turns every :class:`McuforgeError` into its message and exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except McuforgeError as exc:
            click.echo(f"error: {exc}" if "\n" not in str(exc) else str(exc), err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted; nothing was written", err=True)
            sys.exit(130)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mcuforge")
def cli() -> None:
    """mcuforge: from a YAML spec to measured C firmware for a microcontroller.

    \b
    Examples:
      mcuforge validate examples/basicmotions/spec.yaml
      mcuforge generate examples/basicmotions/spec.yaml -o out/ --force
      mcuforge targets list
    """


def _catalogs(values: tuple[Path, ...]) -> list[Path]:
    return [Path(v) for v in values]


catalog_option = click.option(
    "--catalog",
    "catalogs",
    multiple=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="A folder of user recipes/targets layered over the built-in catalog (repeatable).",
)


@cli.command()
@click.argument("spec", type=click.Path(path_type=Path))
@catalog_option
def validate(spec: Path, catalogs: tuple[Path, ...]) -> None:
    """Check a spec: syntax, fields, target, recipe, data folder.

    Prints every problem as FILE:LINE:COL: FIELD: MESSAGE and exits 2.
    """
    from .catalog import load_catalog
    from .errors import DataError
    from .resolver import resolve
    from .spec import load_spec

    loaded = load_spec(spec)
    plan = resolve(loaded, load_catalog(_catalogs(catalogs)))
    data_dir = loaded.resolve_path(loaded.spec.data.path)
    if not data_dir.is_dir():
        raise DataError(f"{spec}: data.path: folder {data_dir} does not exist")
    recipes = ", ".join(r.ref for r in plan.recipes)
    click.echo(f"{spec}: ok (target {plan.target.name}, recipes {recipes})")


@cli.command()
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
    help="Number of search trials (default: search.trials of the spec).",
)
@click.option("--force", is_flag=True, help="Replace a non-empty output directory.")
@click.option(
    "--no-measure", is_flag=True, help="Skip cross-compiling and emulating (cost stays analytic)."
)
@click.option("-q", "--quiet", is_flag=True, help="Print only errors and the result line.")
@catalog_option
def generate(
    spec: Path,
    out: Path | None,
    trials: int | None,
    force: bool,
    no_measure: bool,
    quiet: bool,
    catalogs: tuple[Path, ...],
) -> None:
    """Search, generate C, check it against Python, measure it, write the firmware.

    \b
    Example:
      mcuforge generate examples/basicmotions/spec.yaml --trials 20 --force
    """
    from .pipeline import generate as run

    def log(msg: str) -> None:
        if not quiet:
            click.echo(msg, err=True)

    res = run(
        spec, out, trials, force, log, measure_cost=not no_measure, catalogs=_catalogs(catalogs)
    )
    r = res.report
    c = r["cost"]
    click.echo(
        f"{res.out_dir}: {r['recipe']} test {r['metric']} {r['score']:.4f}; "
        f"flash {c['flash_bytes']['value'] / 1024:.2f} kB ({c['flash_bytes']['source']}), "
        f"sram {c['sram_bytes']['value'] / 1024:.2f} kB ({c['sram_bytes']['source']}), "
        f"latency {c['latency_ms']['value']:.3f} ms ({c['latency_ms']['source']}); "
        f"C == Python on {r['parity']['agree']}/{r['parity']['total']}"
    )


@cli.command()
@click.option("--check", is_flag=True, help="Fail (exit 1) when schema/ is out of date.")
@click.option(
    "--dir",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to write (default: the schema/ folder of this installation).",
)
@click.option(
    "--readme",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also rewrite the spec reference section of this README.",
)
def schema(check: bool, out_dir: Path | None, readme: Path | None) -> None:
    """Export the JSON Schemas of specs, recipes and targets."""
    from ._resources import data_dir
    from .schemas import schema_files, update_readme

    target = out_dir or data_dir("schema")
    stale = []
    for name, text in schema_files().items():
        path = target / name
        if check:
            if not path.is_file() or path.read_text() != text:
                stale.append(name)
        else:
            target.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            click.echo(f"wrote {path}")
    if readme is not None:
        text = readme.read_text()
        new = update_readme(text)
        if check and new != text:
            stale.append(str(readme))
        elif not check:
            readme.write_text(new)
            click.echo(f"updated the spec reference in {readme}")
    if stale:
        click.echo(f"stale: {', '.join(stale)}; run `mcuforge schema`", err=True)
        sys.exit(EXIT_FAIL)


@cli.group()
def targets() -> None:
    """The microcontroller catalog."""


@targets.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@catalog_option
def targets_list(as_json: bool, catalogs: tuple[Path, ...]) -> None:
    """Every target: core, clock, SRAM, flash."""
    from .catalog import load_catalog

    cat = load_catalog(_catalogs(catalogs))
    if as_json:
        click.echo(json.dumps([t.model_dump() for t in cat.targets.values()], indent=2))
        return
    for t in sorted(cat.targets.values(), key=lambda t: t.name):
        click.echo(
            f"{t.name:14} {t.core:14} {t.clock_mhz:6g} MHz {t.sram_kb:6g} kB SRAM "
            f"{t.flash_kb:6g} kB flash  fpu {t.fpu}"
        )


@targets.command("show")
@click.argument("name")
@catalog_option
def targets_show(name: str, catalogs: tuple[Path, ...]) -> None:
    """One target in full."""
    import yaml

    from .catalog import load_catalog

    t = load_catalog(_catalogs(catalogs)).target(name)
    click.echo(yaml.safe_dump(t.model_dump(), sort_keys=False).rstrip())


@cli.group()
def recipes() -> None:
    """The recipe catalog."""


@recipes.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@catalog_option
def recipes_list(as_json: bool, catalogs: tuple[Path, ...]) -> None:
    """Every recipe (highest version) and what it is for."""
    from .catalog import load_catalog

    cat = load_catalog(_catalogs(catalogs))
    items = [cat.recipe(n) for n in sorted(cat.recipes)]
    if as_json:
        click.echo(json.dumps([r.model_dump(by_alias=True) for r in items], indent=2))
        return
    for r in items:
        click.echo(f"{r.ref:24} {r.description}")


@recipes.command("show")
@click.argument("ref")
@catalog_option
def recipes_show(ref: str, catalogs: tuple[Path, ...]) -> None:
    """One recipe in full (NAME or NAME@VERSION)."""
    import yaml

    from .catalog import load_catalog

    r = load_catalog(_catalogs(catalogs)).recipe(ref)
    click.echo(
        yaml.safe_dump(r.model_dump(by_alias=True, exclude_none=True), sort_keys=False).rstrip()
    )


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="mcuforge")


if __name__ == "__main__":
    main()
