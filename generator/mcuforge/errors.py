"""The one exception hierarchy of mcuforge.

Every error a user can cause derives from :class:`McuforgeError` and carries a
message that names where the problem is and what would fix it, and, where a file
caused it, the located problems (``file:line:col: field: message``; ``validate --json``
prints them as records). The command line prints ``str(error)`` and exits with
``error.exit_code``; no traceback.
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
    """Base class of every error mcuforge reports to its user.

    Args:
        message: the text shown; default: the problems, one per line.
        problems: where in which file the error lies (empty when no file caused it).
    """

    exit_code = 1

    def __init__(self, message: str = "", problems: list[Located] | None = None) -> None:
        self.problems: list[Located] = list(problems or [])
        super().__init__(message or "\n".join(str(p) for p in self.problems))

    @classmethod
    def at(cls, problem: Located) -> McuforgeError:
        """This error for one located problem (its message is the problem's line)."""
        return cls(str(problem), [problem])

    def records(self) -> list[dict[str, object]]:
        """The problems as JSON records (one unlocated record when there is none)."""
        problems = self.problems or [Located("", None, None, "", str(self))]
        return [
            {"file": p.file, "line": p.line, "col": p.col, "field": p.field, "message": p.message}
            for p in problems
        ]


class SpecError(McuforgeError):
    """The spec file is not valid: one or more located problems."""

    exit_code = 2

    def __init__(self, problems: list[Located]) -> None:
        super().__init__("", problems)

    @classmethod
    def at(cls, problem: Located) -> SpecError:
        return cls([problem])


class CatalogError(McuforgeError):
    """A recipe or target catalog file is invalid, or a name is not in the catalog."""

    exit_code = 2


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
