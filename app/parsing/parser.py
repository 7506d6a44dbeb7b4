"""Parse a unit designation into the typed elements of ast.py.

`parse(text)` folds the text (normalize.py), runs the LALR grammar in
grammar/designation.lark over the folded copy, builds one node per grammar
alias (`_Builder`), then relates neighbouring items in a few passes
(`_places`, `_platoons_or_theaters`, `_lists`, `_brackets`, `_finish`):

- lists: "Tiểu đoàn 7, 8", "Đại đội (C9, 10, 11)", "Đại đội 1 và Đại đội 2"
  are one unit element whose `numbers` lists every number;
- restatements: "Tiểu đoàn 6 (D6)" is one unit element spanning both;
- places: a run of words that is a known province or area ("– Quảng Ngãi");
- everything else not understood becomes a `text` element and a residue
  entry (adjacent pieces, not parted by a separator, make one entry), with a
  single `not_understood` warning for the whole input (span None; the
  residue has the spans). Separators and connectives are neither.

Choices where the records are ambiguous, applied the same way every time:

- `numbers` always lists every number the element names: ("6",) for a single
  unit, ("9", "10", "11") for a list, () for a named unit (whose `number` is
  None). `number` is the first of `numbers`.
- A list goes on while the items are plain numbers (or same-echelon units
  with the same branch) after ",", "và", "&" or "+". A list item with a letter
  suffix ("Sư đoàn 320A, 320B") is its own unit element of the same echelon,
  because a suffix names a different unit.
- An echelon word followed by a lone letter that is not a number ("đoàn H")
  is a `cover_code` whose `code` is that letter upper-cased ("H"); its text
  is the whole "đoàn H", since the echelon word alone says nothing. The same
  holds for an echelon word followed by a code ("Đoàn KB", "Đoàn Q761").
  Only "Mặt trận" followed by a theatre letter of 1961 (A, B, C, Đ, K:
  "Mặt trận B") is a `theater` with that letter as its code.
- "B1"-"B5" standing alone are theatre codes; they read as platoons when the
  unit just before is a squad ("A1, B2") or the unit just after a company
  ("B2, C3"). Other B numbers are platoons; "T1"-"T7" are theatres, other
  T numbers cover codes. After "Mặt trận" or in a mailbox tail any B/T code
  is a theatre.
- Codes (theatre codes, cover codes, mailbox letters, tags) are the folded
  spelling upper-cased, so "Ð"/"Đ" and diacritics never split them; names
  (unit names, places, branch text) are the input as written, in NFC, with
  "Ð" read as "Đ" and spaces collapsed.
- "KBC 4100" is a `cover_code` "KBC 4100" with a `kbc_lookalike` warning.
- An echelon word with a branch but neither number nor name ("Đoàn vận tải")
  is a unit with only an echelon and a branch.
- An "O" or "l" typed between digits, or as the last character of a number
  ("C1O"), is read as 0 or 1.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache
from typing import Any, Final

from lark import Lark, Token, Transformer

from app.errors import InputTooLong
from app.parsing import lexicon
from app.parsing.ast import (
    Branch,
    CoverCodeElement,
    Echelon,
    Element,
    MailboxElement,
    Notice,
    ParseResult,
    PlaceElement,
    Residue,
    Span,
    TagElement,
    TextElement,
    TheaterElement,
    UnitElement,
)
from app.parsing.normalize import Folded, clean_name, fold_for_parsing
from grammar import grammar_text

MAX_INPUT_CHARS: Final = 500
"""Longest input `parse` accepts, in characters; real designations are far shorter."""

_log = logging.getLogger(__name__)

# Distinct designations remembered: about 2 KB each, so some 16 MB at most.
_MEMO_SIZE: Final = 8192


# ----------------------------------------------------------------- atoms
# What the grammar produces besides finished elements: pieces that only
# mean something next to their neighbours. None of them leave this module.


@dataclass(frozen=True, slots=True)
class _Sep:
    """A separator or connective; `value` is its folded spelling: ",", "(", "va", "-"."""

    span: Span
    value: str


@dataclass(frozen=True, slots=True)
class _Number:
    """A number standing alone: a list item ("Tiểu đoàn 7, 8") or noise."""

    span: Span
    number: str
    suffix: str | None


@dataclass(frozen=True, slots=True)
class _Bare:
    """An echelon word with no number or name: "Đại đội" of "Đại đội (C9, 10, 11)"."""

    span: Span
    echelon: Echelon
    branch: Branch | None


@dataclass(frozen=True, slots=True)
class _Word:
    """A word the grammar has no use for; a place if it spells one, else residue."""

    span: Span
    folded: str


@dataclass(frozen=True, slots=True)
class _Unknown:
    """Something not understood."""

    span: Span


@dataclass(frozen=True, slots=True)
class _PlatoonOrTheater:
    """ "B1"-"B5" alone: a theatre, unless its neighbours make it a platoon."""

    theater: TheaterElement
    platoon: UnitElement

    @property
    def span(self) -> Span:
        return self.theater.span


_Atom = Element | _Sep | _Number | _Bare | _Word | _Unknown | _PlatoonOrTheater


@dataclass(frozen=True, slots=True)
class _EchelonWord:
    echelon: Echelon
    span: Span


@dataclass(frozen=True, slots=True)
class _BranchWords:
    branch: Branch
    span: Span


@dataclass(frozen=True, slots=True)
class _Words:
    span: Span
    letters: str  # folded, spaces removed: tells a lone letter ("đoàn H") from a name


# ----------------------------------------------------------------- the grammar


@cache
def _parser() -> Lark:
    """The compiled grammar: built on first use, then shared (Lark parsers are reentrant)."""
    return Lark(
        grammar_text("designation.lark"),
        parser="lalr",
        lexer="contextual",
        maybe_placeholders=True,
        transformer=_Builder(),
    )


_LETTER_UNIT = re.compile(r"([a-z])(?:\s*(bb))?\s*(\d+(?:[ol]\d+)*)([a-z])?")
_NUMBER = re.compile(r"(\d+(?:[ol]\d+)*)([a-z])?")
_CODE_PARTS = re.compile(r"[a-z]+|\d+")
_SPACES = re.compile(r"\s+")
_TYPED_DIGITS = str.maketrans({"o": "0", "l": "1"})


def _number_and_suffix(number: str, suffix: str | None) -> tuple[str, str | None]:
    """("320", "a") -> ("320", "A"); ("1o5", None) -> ("105", None); ("1", "o") -> ("10", None)."""
    if "o" in number or "l" in number:
        number = number.translate(_TYPED_DIGITS)
    if suffix is None:
        return number, None
    if suffix in ("o", "l"):
        return number + suffix.translate(_TYPED_DIGITS), None
    return number, suffix.upper()


@dataclass(slots=True)
class _Call:
    """The parse in progress, as the builder sees it."""

    original: str
    starts: tuple[int, ...] | None  # see normalize.Folded
    ends: tuple[int, ...] | None
    atoms: list[_Atom] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    # What the passes after the grammar will have to look at; most inputs need few.
    has_words: bool = False
    has_platoon_or_theater: bool = False
    has_list_separator: bool = False
    has_bracket: bool = False


# Lark applies an LALR transformer while it parses, without building a tree (most of
# the speed of LALR in Lark); the transformer is bound once, when the grammar is
# compiled, so each call's input and offset map reach it through this context variable.
_CALL: ContextVar[_Call] = ContextVar("phienhieu_parse_call")


def _span(call: _Call, token: Token) -> Span:
    start: int = token.start_pos  # type: ignore[assignment]  # set by every Lark lexer
    end: int = token.end_pos  # type: ignore[assignment]
    if call.starts is None or call.ends is None:
        return (start, end)
    return (call.starts[start], call.ends[end - 1])


def _unit(
    call: _Call,
    span: Span,
    echelon: Echelon,
    number: str | None,
    suffix: str | None = None,
    branch: Branch | None = None,
    name: str | None = None,
) -> UnitElement:
    return UnitElement(
        text=call.original[span[0] : span[1]],
        span=span,
        echelon=echelon,
        number=number,
        numbers=(number,) if number is not None else (),
        suffix=suffix,
        branch=branch,
        name=name,
    )


class _Builder(Transformer[Token, list[_Atom]]):
    """One method per grammar alias; each builds a typed node with spans into the original."""

    # -- the sequence of items

    def start(self, children: list[list[_Atom] | None]) -> list[_Atom]:
        (items,) = children
        return items if items is not None else []

    def items(self, children: list[Any]) -> list[_Atom]:
        if len(children) == 1:
            return [children[0]]
        items: list[_Atom] = children[0]
        items.append(children[1])
        return items

    # -- parts of items

    def echelon(self, children: list[Token]) -> _EchelonWord:
        (token,) = children
        echelon = lexicon.ECHELON_WORDS[lexicon.lookup_key(token.value)]
        return _EchelonWord(echelon, _span(_CALL.get(), token))

    def branch(self, children: list[Token]) -> _BranchWords:
        (token,) = children
        call = _CALL.get()
        span = _span(call, token)
        key = lexicon.BRANCHES[lexicon.lookup_key(token.value)]
        text = clean_name(call.original[span[0] : span[1]])
        return _BranchWords(Branch(key=key, text=text), span)

    def words(self, children: list[Token]) -> _Words:
        call = _CALL.get()
        first, last = children[0], children[-1]
        if last.type == "HYPHEN":  # a name does not end in its joining hyphen
            last = children[-2]
        span = (_span(call, first)[0], _span(call, last)[1])
        letters = "".join(t.value for t in children if t.type == "WORD")
        return _Words(span, letters)

    # -- items

    def unit_letter(self, children: list[Any]) -> _Atom:
        token: Token = children[0]
        trailing: _BranchWords | None = children[1]
        call = _CALL.get()
        match = _LETTER_UNIT.fullmatch(token.value)
        assert match is not None  # the LETTER_UNIT terminal guarantees the shape
        letter, bb, digits, suffix_letter = match.groups()
        number, suffix = _number_and_suffix(digits, suffix_letter)
        span = _span(call, token)
        branch = trailing.branch if trailing else None
        if bb is not None:  # "Ebb2": infantry regiment 2
            start: int = token.start_pos  # type: ignore[assignment]
            bb_start, bb_end = start + match.start(2), start + match.end(2)
            bb_span = (bb_start, bb_end)
            if call.starts is not None and call.ends is not None:
                bb_span = (call.starts[bb_start], call.ends[bb_end - 1])
            bb_text = call.original[bb_span[0] : bb_span[1]]
            branch = Branch(key=lexicon.BRANCHES["bb"], text=clean_name(bb_text))
        if trailing:
            span = (span[0], trailing.span[1])
        return _unit(call, span, lexicon.ECHELON_LETTERS[letter], number, suffix, branch)

    def unit_numbered(self, children: list[Any]) -> _Atom:
        word: _EchelonWord = children[0]
        before: _BranchWords | None = children[1]
        number_token: Token = children[3]
        after: _BranchWords | None = children[4]
        call = _CALL.get()
        match = _NUMBER.fullmatch(number_token.value)
        assert match is not None  # the NUMBER terminal guarantees the shape
        number, suffix = _number_and_suffix(*match.groups())
        end = after.span[1] if after else _span(call, number_token)[1]
        branch = before or after
        span = (word.span[0], end)
        return _unit(call, span, word.echelon, number, suffix, branch.branch if branch else None)

    def unit_named(self, children: list[Any]) -> _Atom:
        word: _EchelonWord = children[0]
        branch: _BranchWords | None = children[1]
        words: _Words = children[2]
        call = _CALL.get()
        span = (word.span[0], words.span[1])
        if branch is None and len(words.letters) == 1:
            text = call.original[span[0] : span[1]]
            if word.echelon is Echelon.FRONT and words.letters in lexicon.THEATER_LETTERS:
                # "Mặt trận B": the southern front, by its theatre letter.
                letter = clean_name(call.original[words.span[0] : words.span[1]]).upper()
                return TheaterElement(text, span, code=letter)
            # "đoàn H": a letter in place of a number is a cover code, not a name.
            return CoverCodeElement(text, span, code=words.letters.upper())
        name = clean_name(call.original[words.span[0] : words.span[1]])
        unit_branch = branch.branch if branch else None
        return _unit(call, span, word.echelon, None, branch=unit_branch, name=name)

    def echelon_only(self, children: list[Any]) -> _Atom:
        word: _EchelonWord = children[0]
        branch: _BranchWords | None = children[1]
        if branch is None:
            return _Bare(word.span, word.echelon, None)
        # "Đoàn vận tải": an echelon and an arm, no number or name.
        span = (word.span[0], branch.span[1])
        return _unit(_CALL.get(), span, word.echelon, None, branch=branch.branch)

    def echelon_code(self, children: list[Any]) -> _Atom:
        word: _EchelonWord = children[0]
        token: Token = children[1]
        call = _CALL.get()
        span = (word.span[0], _span(call, token)[1])
        return CoverCodeElement(call.original[span[0] : span[1]], span, code=token.value.upper())

    def front_theater(self, children: list[Token]) -> _Atom:
        front, code = children
        call = _CALL.get()
        span = (_span(call, front)[0], _span(call, code)[1])
        return TheaterElement(call.original[span[0] : span[1]], span, code=_compact(code.value))

    def theater(self, children: list[Token]) -> _Atom:
        (token,) = children
        call = _CALL.get()
        span = _span(call, token)
        code = _compact(token.value)
        text = call.original[span[0] : span[1]]
        if code[0] == "T":
            if code in lexicon.THEATER_CODES:
                return TheaterElement(text, span, code=code)
            return CoverCodeElement(text, span, code=code)
        platoon = _unit(call, span, Echelon.PLATOON, code[1:])
        if code in lexicon.THEATER_CODES:
            call.has_platoon_or_theater = True
            return _PlatoonOrTheater(TheaterElement(text, span, code=code), platoon)
        return platoon

    def mailbox(self, children: list[Token | None]) -> _Atom:
        head, number, letters, tail = children
        assert head is not None
        assert number is not None
        call = _CALL.get()
        last = tail or letters or number
        span = (_span(call, head)[0], _span(call, last)[1])
        return MailboxElement(
            call.original[span[0] : span[1]],
            span,
            number=number.value,
            letters=letters.value.upper() if letters else None,
            theater=_compact(tail.value.lstrip("-–—/")) if tail else None,
        )

    def mailbox_head_only(self, children: list[Token]) -> _Atom:
        return _Unknown(_span(_CALL.get(), children[0]))

    def cover_code(self, children: list[Token]) -> _Atom:
        (token,) = children
        call = _CALL.get()
        span = _span(call, token)
        return CoverCodeElement(call.original[span[0] : span[1]], span, code=token.value.upper())

    def kbc(self, children: list[Token]) -> _Atom:
        (token,) = children
        call = _CALL.get()
        span = _span(call, token)
        digits = "".join(_CODE_PARTS.findall(token.value)[1:])
        call.notices.append(_kbc_notice(span))
        return CoverCodeElement(call.original[span[0] : span[1]], span, code=f"KBC {digits}")

    def tag(self, children: list[Token]) -> _Atom:
        (token,) = children
        call = _CALL.get()
        span = _span(call, token)
        _, first, *rest = _CODE_PARTS.findall(token.value)
        code = f"SH {first}-{''.join(rest)}".upper()
        return TagElement(call.original[span[0] : span[1]], span, code=code)

    def bare_number(self, children: list[Token]) -> _Atom:
        (token,) = children
        match = _NUMBER.fullmatch(token.value)
        assert match is not None  # the NUMBER terminal guarantees the shape
        number, suffix = _number_and_suffix(*match.groups())
        return _Number(_span(_CALL.get(), token), number, suffix)

    def branch_only(self, children: list[_BranchWords]) -> _Atom:
        return _Unknown(children[0].span)

    def separator(self, children: list[Token]) -> _Atom:
        (token,) = children
        call = _CALL.get()
        value = token.value
        if value in lexicon.LIST_SEPARATORS:
            call.has_list_separator = True
        elif value in lexicon.OPENING_BRACKETS:
            call.has_bracket = True
        return _Sep(_span(call, token), value)

    def word(self, children: list[Token]) -> _Atom:
        (token,) = children
        call = _CALL.get()
        call.has_words = True
        return _Word(_span(call, token), token.value)

    def other(self, children: list[Token]) -> _Atom:
        return _Unknown(_span(_CALL.get(), children[0]))


def _compact(code: str) -> str:
    """ "b 5" -> "B5"."""
    return _SPACES.sub("", code).upper()


def _kbc_notice(span: Span) -> Notice:
    return Notice(
        code="kbc_lookalike",
        message_vi=(
            "KBC (Khu Bưu Chính) là số hòm thư của quân đội Việt Nam Cộng hòa, "
            "không phải phiên hiệu của Quân đội nhân dân Việt Nam."
        ),
        message_en=(
            "KBC (Khu Bưu Chính) is a South Vietnamese army postal code, "
            "not a designation of the People's Army of Vietnam."
        ),
        span=span,
    )


# ----------------------------------------------------------------- relating neighbours


def _place_end(atoms: Sequence[_Atom], i: int) -> int:
    """Index of the last atom of the longest place name starting at atoms[i], or -1."""
    first = atoms[i]
    assert isinstance(first, _Word)
    key, j, best = first.folded, i, -1
    while len(key) <= lexicon.PLACE_MAX_CHARS:
        if key in lexicon.PLACES:
            best = j
        nxt = atoms[j + 1] if j + 1 < len(atoms) else None
        after = atoms[j + 2] if j + 2 < len(atoms) else None
        if isinstance(nxt, _Word):
            key, j = f"{key} {nxt.folded}", j + 1
        elif isinstance(nxt, _Sep) and nxt.value == "-" and isinstance(after, _Word):
            key, j = f"{key}-{after.folded}", j + 2
        else:
            break
    return best


def _places(atoms: Sequence[_Atom], source: str) -> list[_Atom]:
    """Turn runs of words that spell a known province or area into place elements."""
    out: list[_Atom] = []
    i = 0
    while i < len(atoms):
        atom = atoms[i]
        end = _place_end(atoms, i) if isinstance(atom, _Word) else -1
        if end < 0:
            out.append(atom)
            i += 1
            continue
        span = (atom.span[0], atoms[end].span[1])
        text = source[span[0] : span[1]]
        out.append(PlaceElement(text, span, name=clean_name(text)))
        i = end + 1
    return out


def _neighbour(atoms: Sequence[_Atom], i: int, step: int) -> _Atom | None:
    """The nearest atom before (step -1) or after (step 1) atoms[i] that is not a separator."""
    j = i + step
    while 0 <= j < len(atoms):
        if not isinstance(atoms[j], _Sep):
            return atoms[j]
        j += step
    return None


def _is_unit(atom: _Atom | None, echelon: Echelon) -> bool:
    return isinstance(atom, UnitElement) and atom.echelon is echelon


def _platoons_or_theaters(atoms: Sequence[_Atom]) -> list[_Atom]:
    """Read "B2" as a platoon between a squad and a company, else as a theatre."""
    out: list[_Atom] = []
    for i, atom in enumerate(atoms):
        if isinstance(atom, _PlatoonOrTheater):
            before, after = _neighbour(atoms, i, -1), _neighbour(atoms, i, 1)
            in_chain = _is_unit(before, Echelon.SQUAD) or _is_unit(after, Echelon.COMPANY)
            out.append(atom.platoon if in_chain else atom.theater)
        else:
            out.append(atom)
    return out


def _extend(unit: UnitElement, end: int, source: str, number: str) -> UnitElement:
    span = (unit.span[0], end)
    return replace(unit, span=span, text=source[span[0] : span[1]], numbers=(*unit.numbers, number))


def _lists(atoms: Sequence[_Atom], source: str) -> list[_Atom]:
    """Merge "Tiểu đoàn 7, 8" and "Đại đội 1 và Đại đội 2" into one element each."""
    out: list[_Atom] = []
    i = 0
    while i < len(atoms):
        atom = atoms[i]
        head = out[-1] if out else None
        item = atoms[i + 1] if i + 1 < len(atoms) else None
        if (
            isinstance(atom, _Sep)
            and atom.value in lexicon.LIST_SEPARATORS
            and isinstance(head, UnitElement)
            and head.number is not None
        ):
            if isinstance(item, _Number):
                if head.suffix is None and item.suffix is None:
                    out[-1] = _extend(head, item.span[1], source, item.number)
                else:
                    # "Sư đoàn 320A, 320B": a suffix names another unit of the same echelon.
                    text = source[item.span[0] : item.span[1]]
                    out.append(
                        UnitElement(
                            text=text,
                            span=item.span,
                            echelon=head.echelon,
                            number=item.number,
                            numbers=(item.number,),
                            suffix=item.suffix,
                        )
                    )
                i += 2
                continue
            if (
                isinstance(item, UnitElement)
                and item.echelon is head.echelon
                and item.number is not None
                and len(item.numbers) == 1
                and item.name is None
                and item.suffix is None
                and head.suffix is None
                and item.branch == head.branch
            ):
                out[-1] = _extend(head, item.span[1], source, item.number)
                i += 2
                continue
        out.append(atom)
        i += 1
    return out


def _restates(head: UnitElement, inner: UnitElement) -> bool:
    """True if `inner`, in brackets after `head`, names the same unit ("Tiểu đoàn 6 (D6)")."""
    return (
        inner.echelon is head.echelon
        and head.number is not None
        and inner.numbers == head.numbers
        and inner.name is None
        and (head.suffix is None or inner.suffix is None or head.suffix == inner.suffix)
        and (head.branch is None or inner.branch is None or head.branch.key == inner.branch.key)
    )


def _brackets(atoms: Sequence[_Atom], source: str) -> list[_Atom]:
    """Join a unit to its restatement in brackets, and "Đại đội" to the list in its brackets."""
    out: list[_Atom] = []
    i = 0
    while i < len(atoms):
        atom = atoms[i]
        opening = atoms[i + 1] if i + 1 < len(atoms) else None
        inner = atoms[i + 2] if i + 2 < len(atoms) else None
        closing = atoms[i + 3] if i + 3 < len(atoms) else None
        if (
            isinstance(opening, _Sep)
            and opening.value in lexicon.OPENING_BRACKETS
            and isinstance(inner, UnitElement)
            and inner.number is not None
        ):
            merged: UnitElement | None = None
            if isinstance(atom, _Bare) and atom.echelon is inner.echelon:
                merged = replace(inner, branch=atom.branch or inner.branch)
                start = atom.span[0]
            elif isinstance(atom, UnitElement) and _restates(atom, inner):
                merged = replace(
                    atom,
                    suffix=atom.suffix or inner.suffix,
                    branch=atom.branch or inner.branch,
                )
                start = atom.span[0]
            if merged is not None:
                closed = isinstance(closing, _Sep) and closing.value in lexicon.CLOSING_BRACKETS
                end = closing.span[1] if closed and closing is not None else inner.span[1]
                out.append(replace(merged, span=(start, end), text=source[start:end]))
                i += 4 if closed else 3
                continue
        out.append(atom)
        i += 1
    return out


def _finish(atoms: Sequence[_Atom], source: str) -> list[Element]:
    """Drop separators; join what is left not understood into text elements."""
    elements: list[Element] = []
    pending: Span | None = None  # a run of adjacent atoms not understood

    def flush() -> None:
        nonlocal pending
        if pending is not None:
            elements.append(TextElement(source[pending[0] : pending[1]], pending))
            pending = None

    for atom in atoms:
        if isinstance(atom, _Sep):
            flush()
        elif isinstance(atom, _Bare | _Number | _Word | _Unknown | _PlatoonOrTheater):
            pending = atom.span if pending is None else (pending[0], atom.span[1])
        else:
            flush()
            elements.append(atom)
    flush()
    return elements


def _disjoint(elements: Iterable[Element], source: str) -> list[Element]:
    """Keep spans ordered and disjoint when folding split one character in several.

    "¼" folds to "1⁄4", and a token may end inside it; elements that then overlap
    are reported together as not understood.
    """
    out: list[Element] = []
    for element in elements:
        previous = out[-1] if out else None
        if previous is not None and element.span[0] < previous.span[1]:
            span = (previous.span[0], max(previous.span[1], element.span[1]))
            out[-1] = TextElement(source[span[0] : span[1]], span)
        else:
            out.append(element)
    return out


def _not_understood(residue: Sequence[Residue]) -> Notice:
    quoted = ", ".join(f"«{r.text}»" for r in residue)
    return Notice(
        code="not_understood",
        message_vi=f"Không hiểu phần sau của ký hiệu: {quoted}.",
        message_en=f"Parts of the designation were not understood: {quoted}.",
    )


def _read(folded: Folded) -> _Call | None:
    """Run the grammar with the builder; the atoms are returned through `_Call`.

    The grammar is total, so this does not raise for any folded text; None would
    mean a defect, handled by `parse`.
    """
    call = _Call(folded.original, folded.starts, folded.ends)
    token = _CALL.set(call)
    try:
        call_atoms: list[_Atom] = _parser().parse(folded.text)  # type: ignore[assignment]
    except Exception:  # a defect: `parse` promises not to raise, so report and carry on
        _log.exception("designation parser failed on %r", folded.original)
        return None
    finally:
        _CALL.reset(token)
    call.atoms = call_atoms
    return call


def parse(text: str) -> ParseResult:
    """Parse a designation into typed elements, spans into `text`, residue and warnings.

    Accepts at most MAX_INPUT_CHARS (500) characters and raises InputTooLong
    beyond that, before any work; otherwise never raises. Results are
    immutable and memoised (martyr lists repeat the same designation many times).
    """
    if len(text) > MAX_INPUT_CHARS:
        raise InputTooLong(
            f"The designation is {len(text)} characters long; "
            f"at most {MAX_INPUT_CHARS} characters are accepted.",
            detail_vi=(f"Ký hiệu dài {len(text)} ký tự; chỉ nhận tối đa {MAX_INPUT_CHARS} ký tự."),
            extra={"length": len(text), "max_chars": MAX_INPUT_CHARS},
        )
    return _parse_memoised(text)


@lru_cache(maxsize=_MEMO_SIZE)
def _parse_memoised(text: str) -> ParseResult:
    return parse_uncached(text)


def parse_uncached(text: str) -> ParseResult:
    """`parse` without the length check and the memo: for tests and benchmarks."""
    call = _read(fold_for_parsing(text))
    if call is None:
        # Unreachable by design (the grammar is total, and the tests check it); should a
        # defect ever get here, the whole input is reported as not understood.
        stripped = text.strip()
        start = text.find(stripped) if stripped else 0
        atoms: list[_Atom] = [_Unknown((start, start + len(stripped)))] if stripped else []
        call = _Call(text, None, None, atoms=atoms)
    atoms = call.atoms
    if call.has_words:
        atoms = _places(atoms, text)
    if call.has_platoon_or_theater:
        atoms = _platoons_or_theaters(atoms)
    if call.has_list_separator:
        atoms = _lists(atoms, text)
    if call.has_bracket:
        atoms = _brackets(atoms, text)
    elements = _finish(atoms, text)
    if call.starts is not None:
        elements = _disjoint(elements, text)
    residue = [Residue(e.text, e.span) for e in elements if isinstance(e, TextElement)]
    warnings = call.notices
    if residue:
        warnings.append(_not_understood(residue))
    return ParseResult(
        input=text, elements=tuple(elements), residue=tuple(residue), warnings=tuple(warnings)
    )
