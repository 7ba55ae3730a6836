"""The one exception hierarchy of mcuforge.

Every error a user can cause derives from :class:`McuforgeError` and carries a
message that names where the problem is and what would fix it. The command line
prints ``str(error)`` and exits with ``error.exit_code``; no traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Located:
    """One problem at a place in a file: ``file:line:col: field.path: message``."""

    file: str
    line: int | None
    col: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.col is not None:
                where += f":{self.col}"
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.message}"


class McuforgeError(Exception):
    """Base class of every error mcuforge reports to its user."""

    exit_code = 1


class SpecError(McuforgeError):
    """The spec file is not valid: one or more located problems."""

    exit_code = 2

    def __init__(self, problems: list[Located]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class CatalogError(McuforgeError):
    """A recipe or target catalog file is invalid, or a name is not in the catalog."""

    exit_code = 2

    def __init__(self, message: str, problems: list[Located] | None = None) -> None:
        self.problems = problems or []
        super().__init__(message)


class DataError(McuforgeError):
    """The data the spec points to cannot be used (missing, malformed, too few classes)."""

    exit_code = 2


class BudgetError(McuforgeError):
    """No candidate fits the budgets."""

    exit_code = 3


class ToolchainError(McuforgeError):
    """An external tool (compiler, emulator) is missing or failed."""


class ParityError(McuforgeError):
    """Generated C disagrees with the Python reference."""


class OutputError(McuforgeError):
    """The output directory cannot be written as asked."""

    exit_code = 2
