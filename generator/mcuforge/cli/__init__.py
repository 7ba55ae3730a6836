"""The command line (click): ``mcuforge COMMAND``; see ``mcuforge --help``.

Exit codes: 0 ok, 1 failure (toolchain, parity, device), 2 usage or spec, catalog,
data or lock error, 3 no candidate fits the budgets.
"""

import os

from ._base import EXIT_BUDGET, EXIT_FAIL, EXIT_OK, EXIT_USAGE, cli
from ._capture import capture
from ._catalog import catalog, explain, recipes, schema, targets, validate
from ._data import data
from ._run import generate, init, lock, profile, report, search

for _command in (
    init,
    validate,
    explain,
    generate,
    search,
    lock,
    report,
    profile,
    schema,
    targets,
    recipes,
    catalog,
    data,
    capture,
):
    cli.add_command(_command)


def main() -> None:
    """Console-script entry point."""
    # TensorFlow's C++ logging (oneDNN, converter, SavedModel reader) is noise for users
    # of this command; a value the user set is kept.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from .._stop import stop_on_sigterm

    stop_on_sigterm()  # `kill`, `timeout`, a cancelled CI job: stopped as Ctrl-C stops
    cli(prog_name="mcuforge")


__all__ = ["EXIT_BUDGET", "EXIT_FAIL", "EXIT_OK", "EXIT_USAGE", "cli", "main"]
