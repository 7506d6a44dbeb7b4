"""Keyset paging: a sort is a tuple of parts; `_next` carries the last row's values of them.

A page never repeats or loses a row between requests, however deep: the next
page starts strictly after the last row's sort key (the key ends with a unique
column). Null values sort last in either direction, on both engines.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, case, false, or_

from app.research.errors import InvalidQuery

Kind = Literal["str", "int", "float", "date"]


@dataclass(frozen=True, slots=True)
class Part:
    """One column of a sort: its label in the selected row, its expression, direction, type."""

    label: str
    expr: Any
    kind: Kind = "str"
    descending: bool = False
    nullable: bool = False

    def order_by(self) -> list[Any]:
        clauses: list[Any] = []
        if self.nullable:
            clauses.append(case((self.expr.is_(None), 1), else_=0))
        clauses.append(self.expr.desc() if self.descending else self.expr.asc())
        return clauses

    def equal(self, value: Any) -> ColumnElement[bool]:
        condition: ColumnElement[bool] = (
            self.expr.is_(None) if value is None else self.expr == value
        )
        return condition

    def after(self, value: Any) -> ColumnElement[bool]:
        if value is None:
            return false()  # nulls come last: nothing of this part sorts after a null
        beyond = self.expr < value if self.descending else self.expr > value
        return or_(self.expr.is_(None), beyond) if self.nullable else beyond

    def load(self, value: Any) -> Any:
        """A token value back as the type the column compares with."""
        if value is None and self.nullable:
            return None
        ok = {
            "str": isinstance(value, str),
            "int": isinstance(value, int) and not isinstance(value, bool),
            "float": isinstance(value, int | float) and not isinstance(value, bool),
            "date": isinstance(value, str),
        }[self.kind]
        if not ok:
            raise _bad_token()
        if self.kind == "date":
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                raise _bad_token() from None
        return float(value) if self.kind == "float" else value

    @staticmethod
    def dump(value: Any) -> Any:
        return value.isoformat() if isinstance(value, dt.date) else value


@dataclass(frozen=True, slots=True)
class Sort:
    """A named order of rows; `name` is checked against the token so pages stay in one order."""

    name: str
    parts: tuple[Part, ...]

    def order_by(self) -> list[Any]:
        return [clause for part in self.parts for clause in part.order_by()]

    def after(self, values: Sequence[Any]) -> ColumnElement[bool]:
        """Rows strictly after the row whose sort values are `values`."""
        alternatives = []
        for i, part in enumerate(self.parts):
            same_before = [p.equal(v) for p, v in zip(self.parts[:i], values[:i], strict=True)]
            alternatives.append(and_(*same_before, part.after(values[i])))
        condition = or_(*alternatives)
        first, value = self.parts[0], values[0]
        if first.nullable or value is None:
            return condition
        # Implied by the above; said apart so that an index in the sort's order is entered at
        # the key instead of read from its start.
        start = first.expr <= value if first.descending else first.expr >= value
        return and_(start, condition)

    def token(self, row: Any) -> str:
        values = [Part.dump(getattr(row, part.label)) for part in self.parts]
        raw = json.dumps([self.name, *values], separators=(",", ":"), ensure_ascii=False)
        return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii").rstrip("=")

    def read_token(self, token: str) -> list[Any]:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            decoded = json.loads(raw.decode("utf-8"))
        except (binascii.Error, ValueError, UnicodeDecodeError):
            raise _bad_token() from None
        if not isinstance(decoded, list) or len(decoded) != len(self.parts) + 1:
            raise _bad_token()
        if decoded[0] != self.name:
            raise InvalidQuery(
                "The _next token belongs to another sort order; start again from the first page.",
                detail_vi="Mã _next thuộc về một cách sắp xếp khác; hãy bắt đầu lại từ trang đầu.",
            )
        return [part.load(value) for part, value in zip(self.parts, decoded[1:], strict=True)]


def _bad_token() -> InvalidQuery:
    return InvalidQuery(
        "The _next token is not one this service gave; start again from the first page.",
        detail_vi="Mã _next không phải do dịch vụ này cấp; hãy bắt đầu lại từ trang đầu.",
    )
