"""Data loading: CSV (wide, long or a table), NPZ and WAV recordings, windowing with a
policy for short recordings, leak-free splits, and the data checks."""

from ._csv import BadCell, Recording, read_csv, read_table
from ._dataset import (
    Dataset,
    Split,
    Survey,
    check_json,
    data_root,
    data_sha256,
    load_dataset,
    preflight,
    preflight_hashes,
    survey,
)
from ._files import DECIMAL_COMMA, MISSING, CsvRows, comma_number, data_files
from ._findings import (
    ClassCount,
    DataSummary,
    FileProblem,
    Finding,
    SplitInfo,
    data_error,
    locate_findings,
    report_lines,
    shown,
)
from ._formats import npz_keys, read_npz, read_wav

__all__ = [
    "DECIMAL_COMMA",
    "MISSING",
    "BadCell",
    "ClassCount",
    "CsvRows",
    "DataSummary",
    "Dataset",
    "FileProblem",
    "Finding",
    "Recording",
    "Split",
    "SplitInfo",
    "Survey",
    "check_json",
    "comma_number",
    "data_error",
    "data_files",
    "data_root",
    "data_sha256",
    "load_dataset",
    "locate_findings",
    "npz_keys",
    "preflight",
    "preflight_hashes",
    "read_csv",
    "read_npz",
    "read_table",
    "read_wav",
    "report_lines",
    "shown",
    "survey",
]
