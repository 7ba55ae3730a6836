"""Data loading: CSV recordings, windowing, leak-free splits."""

from ._csv import Recording, read_csv
from ._dataset import Dataset, Split, load_dataset

__all__ = ["Dataset", "Recording", "Split", "load_dataset", "read_csv"]
