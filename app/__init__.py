"""FoodArchive (食品质量技术档案): one product, one batch, one file."""

from importlib.metadata import PackageNotFoundError, version


def _version() -> str:
    """The one version number is pyproject.toml's: installed, it is in the
    package metadata; frozen, the PyInstaller spec copies that metadata in."""
    try:
        return version("foodarchive")
    except PackageNotFoundError:
        pass
    # A source tree that was never installed: read pyproject.toml itself.
    import tomllib
    from pathlib import Path

    try:
        text = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text(encoding="utf-8")
        return tomllib.loads(text)["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "0.0.0+unknown"


__version__ = _version()
