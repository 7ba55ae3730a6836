"""Reports: report.json (machine-readable), report.md (for diffs) and report.html (to read).

:func:`write_reports` writes all three from the report mapping the pipeline builds and
the search's trial rows; :func:`rerender` renders report.md and report.html again from
an output directory. Matplotlib (for the plots) is imported only while rendering HTML.
"""

from ._files import REPORT_FILES, read_output, rerender, write_reports
from ._html import SECTIONS, render_html
from ._markdown import render_markdown
from ._model import worse_than_mean
from ._schema import REPORT_VERSION, Report, validate_report
from ._sections import close_text

__all__ = [
    "REPORT_FILES",
    "REPORT_VERSION",
    "SECTIONS",
    "Report",
    "close_text",
    "read_output",
    "render_html",
    "render_markdown",
    "rerender",
    "validate_report",
    "worse_than_mean",
    "write_reports",
]
