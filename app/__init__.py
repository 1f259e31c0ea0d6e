"""FoodArchive (食品质量技术档案): one product, one batch, one file."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("foodarchive")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
