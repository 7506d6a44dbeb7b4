"""Which of the decoder's modules run compiled (mypyc, see setup.py), and the guard that
keeps a compiled module from running against sources changed since it was built.

Imported first, by `app/__init__.py`. The build writes `_native.json`: the compiled
modules and the SHA-256 of every source of the package as compiled. If any source now
differs (an editable install being edited), or the manifest is missing, or
PHIENHIEU_PURE_PYTHON=1 is set, every compiled module is imported from its `.py` file
instead: all or none, because compiled modules call each other directly in C and one
left compiled would keep calling the old code of the others.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

PACKAGE = Path(__file__).resolve().parent
MANIFEST = "_native.json"  # written by setup.py beside this module
PURE_ENV = "PHIENHIEU_PURE_PYTHON"


@dataclass(frozen=True, slots=True)
class Status:
    """What runs compiled (`modules`), or why nothing does (`reason`)."""

    modules: tuple[str, ...]
    reason: str

    @property
    def compiled(self) -> bool:
        return bool(self.modules)


def _built(package: Path) -> list[str]:
    """The modules of `package` with a compiled extension beside their source."""
    suffixes = sorted(importlib.machinery.EXTENSION_SUFFIXES, key=len, reverse=True)
    found = set()
    for path in package.rglob("*.*"):
        name = path.relative_to(package.parent).as_posix()
        for suffix in suffixes:  # the longest first: ".cpython-311-….so" before ".so"
            if name.endswith(suffix):
                found.add(name.removesuffix(suffix).replace("/", "."))
                break
    return sorted(found)


def changed_source(manifest: dict[str, object], root: Path) -> str | None:
    """The first source under `root` whose digest is not the one compiled against."""
    sources = manifest.get("sources")
    if not isinstance(sources, dict) or not sources:
        return "(no digests)"
    for relative, digest in sorted(sources.items()):
        try:
            now = hashlib.sha256((root / relative).read_bytes()).hexdigest()
        except OSError:
            return str(relative)
        if now != digest:
            return str(relative)
    return None


class SourceFirst(importlib.abc.MetaPathFinder):
    """Imports `names` from their `.py` files under `root`, never their compiled twins."""

    def __init__(self, names: Sequence[str], root: Path) -> None:
        self.names = frozenset(names)
        self.root = root

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.names:
            return None
        source = self.root / (fullname.replace(".", "/") + ".py")
        return importlib.util.spec_from_file_location(fullname, source)


def decide(package: Path, pure: bool) -> tuple[Status, list[str]]:
    """The status of `package`, and the modules to import from source to keep it."""
    built = _built(package)
    if not built:
        return Status((), "not compiled (pure Python)"), []
    if pure:
        return Status((), f"{PURE_ENV}=1: the compiled modules are not used"), built
    try:
        manifest = json.loads((package / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return Status((), "compiled modules without their manifest: not used"), built
    changed = changed_source(manifest, package.parent)
    if changed is not None:
        return (
            Status(
                (),
                f"{changed} changed since the build: the compiled modules are not used "
                "(reinstall to compile them again)",
            ),
            built,
        )
    listed = manifest.get("modules")
    modules = tuple(m for m in listed if isinstance(m, str)) if isinstance(listed, list) else ()
    # An extension left from an earlier build that no longer compiles it: its source.
    return Status(modules, "compiled"), [m for m in built if m not in modules]


def _install() -> Status:
    pure = os.environ.get(PURE_ENV) == "1"
    status, from_source = decide(PACKAGE, pure)
    if from_source:
        sys.meta_path.insert(0, SourceFirst(from_source, PACKAGE.parent))
        if not pure:
            logging.getLogger("phienhieu").warning("phienhieu: %s", status.reason)
    return status


STATUS = _install()
