"""Data loading: CSV (wide or long), NPZ and WAV recordings, windowing, leak-free splits."""

from ._csv import Recording, read_csv
from ._dataset import Dataset, Split, load_dataset
from ._formats import read_npz, read_wav

__all__ = ["Dataset", "Recording", "Split", "load_dataset", "read_csv", "read_npz", "read_wav"]
