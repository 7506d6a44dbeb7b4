"""The language of unit designations and dates, as Lark grammars (.lark files beside this one)."""

from pathlib import Path

GRAMMAR_DIR = Path(__file__).resolve().parent


def grammar_text(name: str) -> str:
    """Return the text of the grammar file `name` (e.g. "designation.lark")."""
    return (GRAMMAR_DIR / name).read_text(encoding="utf-8")
