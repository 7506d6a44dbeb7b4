"""Parsing of designations: text in, typed elements with spans out (see ast.py)."""

from app.parsing.normalize import fold
from app.parsing.parser import MAX_INPUT_CHARS, parse

__all__ = ["MAX_INPUT_CHARS", "fold", "parse"]
