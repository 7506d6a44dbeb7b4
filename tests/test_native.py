"""The compiled modules (mypyc, setup.py) and the guard that keeps them from running stale.

The whole suite runs against whatever this install built: in CI, the compiled modules.
Here the same answers are checked against the pure-Python code (PHIENHIEU_PURE_PYTHON=1,
in a process of its own), and the guard is checked on a package made for the test.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.machinery
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import app
from app._native import PURE_ENV, SourceFirst, decide
from app.batch.rows import RowDecoder
from app.context import Context
from app.decode.service import answer_json, chosen_edition
from app.parsing import parse

DATA = Path(__file__).parent / "data"
SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]


def _jsonl(name: str) -> list[dict[str, Any]]:
    lines = (DATA / name).read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


DECODES = _jsonl("decode_golden.jsonl")
PARSES = _jsonl("parse_golden.jsonl")

# Run in a process of its own, pure Python: this module's `_answers_here` there.
ANSWERS = f"""
import json, sys
sys.path.insert(0, {str(Path(__file__).parent)!r})
import app, test_native
from app.context import Context
from app.settings import Settings
answers = test_native._answers_here(Context.from_settings(Settings(auto_init=False)))
print(json.dumps({{"native": list(app.NATIVE.modules), **answers}}))
"""


def _answers_here(context: Context) -> dict[str, Any]:
    edition = chosen_edition(context, None)
    rows = RowDecoder(context, edition)
    return {
        "answers": [answer_json(context, edition, c["text"], c["date"]).decode() for c in DECODES],
        "cells": [list(rows.cells(c["text"], c["date"] or "")) for c in DECODES],
        "parses": [parse(c["input"]).to_json() for c in PARSES],
    }


def test_pure_python_answers_as_the_installed_build_does(sample_context: Context) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHIENHIEU_")}
    env.update(
        PHIENHIEU_DATABASE_URL=sample_context.settings.database_url,
        PHIENHIEU_AUTO_INIT="false",
        **{PURE_ENV: "1"},
    )
    done = subprocess.run(
        [sys.executable, "-c", ANSWERS],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=300,
    )
    pure = json.loads(done.stdout)
    assert pure.pop("native") == []  # that process really ran the sources
    assert pure == _answers_here(sample_context)


@pytest.mark.skipif(os.environ.get("CI") != "true", reason="CI installs the compiled build")
def test_ci_runs_the_compiled_modules() -> None:
    assert app.NATIVE.compiled, app.NATIVE.reason
    for name in app.NATIVE.modules:
        assert importlib.import_module(name).__file__.endswith(SUFFIX), name  # type: ignore[union-attr]


# --- the guard, on a package of the test's own -------------------------------------------------


@pytest.fixture
def package(tmp_path: Path) -> Iterator[Path]:
    """tmp/pkg with a module, a broken "compiled" twin of it and a matching manifest."""
    root = tmp_path / "pkg"
    root.mkdir()
    (root / "__init__.py").write_text("", "utf-8")
    (root / "mod.py").write_text("ORIGIN = 'source'\n", "utf-8")
    (root / f"mod{SUFFIX}").write_bytes(b"not a shared object")
    digests = {
        f"pkg/{p.name}": hashlib.sha256(p.read_bytes()).hexdigest() for p in root.glob("*.py")
    }
    manifest = {"modules": ["pkg.mod"], "sources": digests}
    (root / "_native.json").write_text(json.dumps(manifest), "utf-8")
    yield root
    for name in [n for n in sys.modules if n == "pkg" or n.startswith("pkg.")]:
        del sys.modules[name]


def test_a_build_that_matches_its_sources_is_used(package: Path) -> None:
    status, from_source = decide(package, pure=False)
    assert status.compiled
    assert status.modules == ("pkg.mod",)
    assert from_source == []


@pytest.mark.parametrize("how", ["edited", "manifest lost", "pure asked"])
def test_otherwise_every_compiled_module_is_imported_from_source(package: Path, how: str) -> None:
    if how == "edited":
        (package / "__init__.py").write_text("# edited after the build\n", "utf-8")
    elif how == "manifest lost":
        (package / "_native.json").unlink()
    status, from_source = decide(package, pure=how == "pure asked")
    assert not status.compiled
    assert from_source == ["pkg.mod"]
    if how == "edited":
        assert status.reason.startswith("pkg/__init__.py changed since the build")
    # The finder wins over the extension beside the source (which would not even load).
    finder = SourceFirst(from_source, package.parent)
    sys.path.insert(0, str(package.parent))
    sys.meta_path.insert(0, finder)
    try:
        module = importlib.import_module("pkg.mod")
    finally:
        sys.meta_path.remove(finder)
        sys.path.remove(str(package.parent))
    assert module.ORIGIN == "source"
    assert module.__file__ == str(package / "mod.py")


def test_an_extension_the_build_no_longer_makes_is_not_used(package: Path) -> None:
    (package / f"old{SUFFIX}").write_bytes(b"left by an earlier build")
    (package / "old.py").write_text("ORIGIN = 'source'\n", "utf-8")
    manifest = json.loads((package / "_native.json").read_text("utf-8"))
    manifest["sources"]["pkg/old.py"] = hashlib.sha256(b"ORIGIN = 'source'\n").hexdigest()
    (package / "_native.json").write_text(json.dumps(manifest), "utf-8")
    status, from_source = decide(package, pure=False)
    assert status.modules == ("pkg.mod",)
    assert from_source == ["pkg.old"]


def test_a_package_never_built_is_plain_python(package: Path) -> None:
    (package / f"mod{SUFFIX}").unlink()
    status, from_source = decide(package, pure=False)
    assert not status.compiled
    assert from_source == []
    assert "not compiled" in status.reason
