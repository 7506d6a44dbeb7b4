"""Build: the decoder's hot modules compiled to C with mypyc (the rest of the package is
installed as it is).

A national list spends its time parsing and resolving ~200,000 distinct designations in
the interpreter; compiled, the same code takes about a fifth less CPU (README,
Performance). `PHIENHIEU_PURE_PYTHON=1` at install time builds nothing; at run time it
ignores what was built. `app/_native.py` makes sure a compiled module never runs against
sources that have changed since it was built (an editable install being edited): the build
records a digest of every source of `app/`, and if any differs at import the whole package
runs as pure Python.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from setuptools import setup

HERE = Path(__file__).resolve().parent
# Compiled together (calls between them are C calls): what a list's row goes through.
COMPILED = (
    "app/batch/rows.py",
    "app/decode/facts.py",
    "app/decode/memo.py",
    "app/decode/repository.py",
    "app/decode/resolver.py",
    "app/parsing/ast.py",
    "app/parsing/keys.py",
    "app/parsing/lalr.py",
    "app/parsing/normalize.py",
    "app/parsing/parser.py",
)
MANIFEST = HERE / "app" / "_native.json"


def _manifest() -> dict[str, object]:
    """What was compiled, and the digest of every source it was compiled against."""
    sources = sorted((HERE / "app").rglob("*.py"))
    return {
        "modules": [p.removesuffix(".py").replace("/", ".") for p in COMPILED],
        "sources": {
            p.relative_to(HERE).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sources
        },
    }


def _extensions() -> list[object]:
    if os.environ.get("PHIENHIEU_PURE_PYTHON") == "1":
        MANIFEST.unlink(missing_ok=True)
        return []
    from mypyc.build import mypycify

    MANIFEST.write_text(json.dumps(_manifest(), indent=1, sort_keys=True) + "\n", "utf-8")
    # mypyc.ini: the types mypyc compiles by (third-party packages, absent from the build
    # environment, are read as Any); the checks of record are `mypy --strict` (scripts/lint).
    return list(
        mypycify(
            ["--config-file=mypyc.ini", *COMPILED],
            opt_level="3",
            group_name="phienhieu",
        )
    )


setup(ext_modules=_extensions())
