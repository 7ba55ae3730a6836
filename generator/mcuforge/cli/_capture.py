"""``mcuforge capture``: record from a board running the capture firmware into the data."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ._base import EXIT_FAIL, logger


@click.command()
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--port",
    required=True,
    help="Serial port of the board (/dev/ttyACM0, COM3) or a pyserial URL (socket://host:port).",
)
@click.option(
    "--label",
    required=True,
    help="Class of this recording: the folder it goes to (<data.path>/<label>/), or the "
    "label column's value.",
)
@click.option(
    "--seconds",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Length of the recording, in seconds of samples at the spec's rate "
    "(default: until Ctrl-C).",
)
@click.option(
    "--baud", type=click.IntRange(min=1), default=115200, show_default=True, help="Serial speed."
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    help="Stop after this many seconds without a sample.",
)
@click.option("--subject", default=None, help="Subject id, for a spec with a subject column.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON on stdout.")
@click.option("-q", "--quiet", is_flag=True, help="No progress on stderr.")
def capture(
    spec: Path,
    port: str,
    label: str,
    seconds: float | None,
    baud: int,
    timeout: float,
    subject: str | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Record raw sensor samples from a board into the data folder of SPEC.

    The board runs the generated firmware built in capture mode
    (`cmake -B build-capture -DMCUFORGE_MODE=capture`, see the firmware's README): it
    streams its sensor hook's samples in checksummed, numbered frames. Each recording is
    written as <data.path>/<label>/<UTC time>.csv in the spec's CSV layout and channel
    names, so the next `mcuforge generate` trains on it. Lost frames, resyncs and missed
    sample periods are counted; a recording never spans a gap (each contiguous part is
    its own file). Ctrl-C stops and keeps what was received.

    \b
    Exit codes: 0 recorded, 1 no usable stream, or it stopped early (what was received
    is written), 2 a spec, data or label problem.

    \b
    Example:
      mcuforge capture spec.yaml --port /dev/ttyACM0 --label walking --seconds 30
      mcuforge capture spec.yaml --port socket://127.0.0.1:4444 --label idle --json
    """
    from ..hardware.capture import capture as run
    from ..hardware.recordings import check_label
    from ..spec import load_spec

    log = logger(quiet)
    loaded = load_spec(spec)
    check_label(label, loaded.spec.task)  # refused before anything is said or opened
    data = loaded.spec.data
    length = f"{seconds:g} s" if seconds else "until Ctrl-C"
    log(
        f"capture: {label!r} from {port}, {len(data.channels)} channels at "
        f"{data.rate_hz:g} Hz, {length}"
    )
    tty = sys.stderr.isatty() and not quiet

    def progress(n: int) -> None:
        if tty:
            click.echo(f"\rcapture: {n / data.rate_hz:.1f} s", err=True, nl=False)

    result = run(
        loaded,
        port,
        label,
        seconds=seconds,
        subject=subject,
        baudrate=baud,
        timeout_s=timeout,
        log=log,
        progress=progress,
    )
    if tty:
        click.echo("", err=True)
    base = Path.cwd()
    for f, segment in zip(result.files, result.capture.segments, strict=True):
        shown = f.relative_to(base) if f.is_relative_to(base) else f
        log(f"wrote {shown} ({len(segment)} samples)")
    if as_json:
        click.echo(json.dumps(result.json(base), indent=2))
    else:
        click.echo(result.summary())
    stopped = result.capture.stopped
    if stopped in ("stalled", "closed"):
        why = "the port closed" if stopped == "closed" else f"no sample for {timeout:g} s"
        click.echo(
            f"error: the stream stopped early ({why}); what was received is written", err=True
        )
        sys.exit(EXIT_FAIL)
    if not result.files:
        click.echo("capture: nothing was recorded", err=True)
