"""Reports: report.json (machine-readable) and report.md (for diffs and pull requests)."""

from ._write import REPORT_VERSION, render_markdown

__all__ = ["REPORT_VERSION", "render_markdown"]
