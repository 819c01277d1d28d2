"""The installed version of a distribution (importlib.metadata), or None when it is not."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def package_version(name: str) -> str | None:
    """`name`'s installed version (a distribution name, as pip knows it), or None."""
    try:
        return version(name)
    except PackageNotFoundError:
        return None
