"""Parse a unit designation into the typed elements of ast.py.

`parse(text)` converts TCVN3/VNI text to Unicode if it is such (legacy.py),
folds the text (normalize.py), reads the folded copy by the grammar in
grammar/designation.lark, builds one node per grammar alias (the methods of
`_Call`), then relates neighbouring items in a few passes (`_places`,
`_lone_theater_letter`, `_platoons_or_theaters`, `_lists`, `_brackets`,
`_numbered_codes`, `_finish`).

How the grammar is run, fastest first, all three giving the same result (tests/
test_parse_engine.py): without a mailbox, one regex of the grammar's terminals
reads the tokens and `_group` groups them into items as the grammar does;
with one, whose lexing depends on the parser's state, the LALR driver of
lalr.py runs the tables Lark compiled; Lark's own parser is the reference.

The passes:

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
  ("C1O"), is read as 0 or 1; so is an "I" between digits ("1I5"), and an "l" or
  "I" typed for the first digit right after an echelon letter ("E l4" is E14).
- A lone theatre letter (A, B, C, Đ, K) is a `theater` only when it is the whole
  designation ("B"); its code is the letter as written ("Đ", or "D" typed without
  the bar), and its match key is folded, so both find theatre Đ. Elsewhere a lone
  letter says too little ("đi B" is "went south") and stays not understood.
- Battlefields and regions ("chiến trường miền Nam", "chiến trường K", "miền Nam")
  are places, like provinces: they name no unit.
- A date written into a designation ("T1/1968", "27/1/1968", "1968-1970", "ngày 27
  tháng 1 năm 1968") is recognised so that it is not read as units or as theatre
  T1, and left as not understood with a `date_in_designation` warning: the
  contract has no date element, and a date of death belongs in the date field. A
  year alone ("1968") is just a number. "Tiểu đoàn 7/1968" reads "7/1968" as the
  date.
- The dotted metal tag "934B. DKI. XUAN VINH" is a `tag` (code "934B.DKI.XUAN VINH"),
  like "SH 1 - 99X"; tags have no match key (low confidence by kind).
- "7-KB" with no unit before the number is one `cover_code` "7-KB"; after a unit
  ("tiểu đoàn 7-KB") the number is the unit's and "KB" the code.
- TCVN3/VNI text is converted before parsing (a `legacy_encoding` warning); spans
  stay on the original, names are the converted text. When `detect_legacy` cannot
  tell, or a conversion would make things worse, the reading with the fewest
  characters not understood wins (`_best_reading`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import cache, lru_cache
from typing import Any, Final

from lark import Lark

from app.errors import InputTooLong
from app.parsing import lalr, legacy, lexicon
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
from app.parsing.legacy import (
    LegacyEncoding,
    detect_legacy,
    from_legacy_mapped,
    has_legacy_clues,
)
from app.parsing.normalize import clean_name, fold_cluster_memo_clear, fold_for_parsing
from grammar import grammar_text

MAX_INPUT_CHARS: Final = 500
"""Longest input `parse` accepts, in characters; real designations are far shorter."""

_log = logging.getLogger(__name__)

# Distinct designations remembered: about 2 KB each, so some 16 MB at most.
_MEMO_SIZE: Final = 8192


# ----------------------------------------------------------------- atoms
# What the grammar produces besides finished elements: pieces that only
# mean something next to their neighbours. None of them leave this module.


@dataclass(frozen=True, slots=True, init=False)  # the written __init__ compiles (ast.py)
class _Sep:
    """A separator or connective; `value` is its folded spelling: ",", "(", "va", "-"."""

    span: Span
    value: str

    def __init__(self, span: Span, value: str) -> None:
        object.__setattr__(self, "span", span)
        object.__setattr__(self, "value", value)


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


@dataclass(frozen=True, slots=True, init=False)  # the written __init__ compiles (ast.py)
class _EchelonWord:
    echelon: Echelon
    span: Span

    def __init__(self, echelon: Echelon, span: Span) -> None:
        object.__setattr__(self, "echelon", echelon)
        object.__setattr__(self, "span", span)


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
    """The grammar compiled by Lark (LALR, contextual lexer): built on first use, then shared."""
    return Lark(
        grammar_text("designation.lark"),
        parser="lalr",
        lexer="contextual",
        maybe_placeholders=True,
    )


def _no_builder(call: _Call, children: list[Any]) -> Any:
    raise AssertionError("helper rules are spliced, not built")


@dataclass(frozen=True, slots=True)
class _Engine:
    tables: lalr.Tables
    builders: tuple[Callable[[_Call, list[Any]], Any], ...]  # per rule
    contextual: frozenset[str]  # see lalr.contextual_terminals
    # Matches wherever a contextual terminal could; no match spares looking at the tokens.
    contextual_hint: re.Pattern[str]


@cache
def _engine() -> _Engine:
    """Lark's tables for the lean driver in lalr.py, and the builder of each rule."""
    tables = lalr.compile_tables(_parser())
    # Helper rules ("__words_star_0") are spliced by the driver and have no builder.
    builders = tuple(
        _no_builder if rule.helper else getattr(_Call, rule.name) for rule in tables.rules
    )
    contextual = lalr.contextual_terminals(tables)
    hint = "|".join(t.pattern.to_regexp() for t in _parser().terminals if t.name in contextual)
    return _Engine(tables, builders, contextual, re.compile(hint or "(?!)"))


_LETTER_UNIT = re.compile(r"([a-z])(?:\s*(bb))?\s*([li]?\d+(?:[oli]\d+)*)([a-z])?")
_NUMBER = re.compile(r"([li]?\d+(?:[oli]\d+)*)([a-z])?")
_CODE_PARTS = re.compile(r"[a-z]+|\d+")
_SPACES = re.compile(r"\s+")
_TYPED_DIGITS = str.maketrans({"o": "0", "l": "1", "i": "1"})


def _number_and_suffix(number: str, suffix: str | None) -> tuple[str, str | None]:
    """("320", "a") -> ("320", "A"); ("1o5", None) -> ("105", None); ("1", "o") -> ("10", None)."""
    if not number.isdigit():
        number = number.translate(_TYPED_DIGITS)
    if suffix is None:
        return number, None
    if suffix in ("o", "l"):
        return number + suffix.translate(_TYPED_DIGITS), None
    return number, suffix.upper()


_Tok = lalr.Token


# Tokens repeat across a list of records ("C9", "270"): their parts are remembered.
@lru_cache(maxsize=4096)
def _number_parts(value: str) -> tuple[str, str | None]:
    """A NUMBER token's number and suffix: "320a" -> ("320", "A")."""
    match = _NUMBER.fullmatch(value)
    assert match is not None  # the NUMBER terminal guarantees the shape
    return _number_and_suffix(*match.groups())


@lru_cache(maxsize=4096)
def _letter_unit_parts(value: str) -> tuple[str, Span | None, str, str | None]:
    """A LETTER_UNIT token's letter, where its "bb" is, number and suffix: "ebb2"."""
    match = _LETTER_UNIT.fullmatch(value)
    assert match is not None  # the LETTER_UNIT terminal guarantees the shape
    letter, bb, digits, suffix_letter = match.groups()
    number, suffix = _number_and_suffix(digits, suffix_letter)
    return letter, match.span(2) if bb is not None else None, number, suffix


# Bounded: the matched spelling may vary in its spaces ("tieu  doan").
@lru_cache(maxsize=1024)
def _echelon_of(word: str) -> Echelon:
    return lexicon.ECHELON_WORDS[lexicon.lookup_key(word)]


@lru_cache(maxsize=1024)
def _branch_of(word: str) -> str:
    return lexicon.BRANCHES[lexicon.lookup_key(word)]


class _Call:
    """One parse in progress: the input, its offset map, and one builder method per grammar alias.

    The driver (lalr.run) calls the method named by each rule's alias with the rule's
    children: tokens as `(type, value, start, end)` tuples on the folded text, and the
    values built for sub-rules.
    """

    __slots__ = (
        "atoms",
        "ends",
        "has_bracket",
        "has_list_separator",
        "has_number",
        "has_platoon_or_theater",
        "has_words",
        "notices",
        "original",
        "repaired",
        "starts",
    )

    def __init__(
        self,
        original: str,
        starts: Sequence[int] | None,
        ends: Sequence[int] | None,
        repaired: _Repaired | None = None,
    ) -> None:
        self.original = original  # the caller's input: spans point into it
        self.starts = starts  # folded offset -> original offset; see normalize.Folded
        self.ends = ends
        self.repaired = repaired  # legacy-encoded input converted to Unicode, for names
        self.atoms: list[_Atom] = []
        self.notices: list[Notice] = []
        # What the passes after the grammar will have to look at; most inputs need few.
        self.has_words = False
        self.has_platoon_or_theater = False
        self.has_list_separator = False
        self.has_bracket = False
        self.has_number = False

    def span(self, token: _Tok) -> Span:
        starts = self.starts
        if starts is None:
            return (token[2], token[3])
        return (starts[token[2]], self.ends[token[3] - 1])  # type: ignore[index]

    def text(self, span: Span) -> str:
        return self.original[span[0] : span[1]]

    def name(self, span: Span) -> str:
        """The text at `span` as a name for display: as written, or as converted from TCVN3/VNI."""
        if self.repaired is None:
            return clean_name(self.original[span[0] : span[1]])
        return clean_name(self.repaired.slice(span))

    def unit(
        self,
        span: Span,
        echelon: Echelon,
        number: str | None,
        suffix: str | None = None,
        branch: Branch | None = None,
        name: str | None = None,
    ) -> UnitElement:
        return UnitElement(
            text=self.original[span[0] : span[1]],
            span=span,
            echelon=echelon,
            number=number,
            numbers=(number,) if number is not None else (),
            suffix=suffix,
            branch=branch,
            name=name,
        )

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

    def echelon(self, children: list[_Tok]) -> _EchelonWord:
        (token,) = children
        return _EchelonWord(_echelon_of(token[1]), self.span(token))

    def branch(self, children: list[_Tok]) -> _BranchWords:
        (token,) = children
        span = self.span(token)
        return _BranchWords(Branch(key=_branch_of(token[1]), text=self.name(span)), span)

    def words(self, children: list[_Tok]) -> _Words:
        first, last = children[0], children[-1]
        if last[0] == "HYPHEN":  # a name does not end in its joining hyphen
            last = children[-2]
        span = (self.span(first)[0], self.span(last)[1])
        letters = "".join(t[1] for t in children if t[0] == "WORD")
        return _Words(span, letters)

    # -- items

    def unit_letter(self, children: list[Any]) -> _Atom:
        token: _Tok = children[0]
        trailing: _BranchWords | None = children[1]
        letter, bb, number, suffix = _letter_unit_parts(token[1])
        span = self.span(token)
        branch = trailing.branch if trailing else None
        if bb is not None:  # "Ebb2": infantry regiment 2
            start = token[2]
            bb_span = self.span(("bb", "bb", start + bb[0], start + bb[1]))
            branch = Branch(key=lexicon.BRANCHES["bb"], text=self.name(bb_span))
        if trailing:
            span = (span[0], trailing.span[1])
        return self.unit(span, lexicon.ECHELON_LETTERS[letter], number, suffix, branch)

    def unit_numbered(self, children: list[Any]) -> _Atom:
        word: _EchelonWord = children[0]
        before: _BranchWords | None = children[1]
        number_token: _Tok = children[3]
        after: _BranchWords | None = children[4]
        number, suffix = _number_parts(number_token[1])
        end = after.span[1] if after else self.span(number_token)[1]
        branch = before or after
        span = (word.span[0], end)
        return self.unit(span, word.echelon, number, suffix, branch.branch if branch else None)

    def unit_named(self, children: list[Any]) -> _Atom:
        word: _EchelonWord = children[0]
        branch: _BranchWords | None = children[1]
        words: _Words = children[2]
        span = (word.span[0], words.span[1])
        if branch is None and len(words.letters) == 1:
            text = self.text(span)
            if word.echelon is Echelon.FRONT and words.letters in lexicon.THEATER_LETTERS:
                # "Mặt trận B": the southern front, by its theatre letter.
                return TheaterElement(text, span, code=self.name(words.span).upper())
            # "đoàn H": a letter in place of a number is a cover code, not a name.
            return CoverCodeElement(text, span, code=words.letters.upper())
        name = self.name(words.span)
        unit_branch = branch.branch if branch else None
        return self.unit(span, word.echelon, None, branch=unit_branch, name=name)

    def echelon_only(self, children: list[Any]) -> _Atom:
        word: _EchelonWord = children[0]
        branch: _BranchWords | None = children[1]
        if branch is None:
            return _Bare(word.span, word.echelon, None)
        # "Đoàn vận tải": an echelon and an arm, no number or name.
        span = (word.span[0], branch.span[1])
        return self.unit(span, word.echelon, None, branch=branch.branch)

    def echelon_code(self, children: list[Any]) -> _Atom:
        word: _EchelonWord = children[0]
        token: _Tok = children[1]
        span = (word.span[0], self.span(token)[1])
        return CoverCodeElement(self.text(span), span, code=token[1].upper())

    def front_theater(self, children: list[_Tok]) -> _Atom:
        front, code = children
        span = (self.span(front)[0], self.span(code)[1])
        return TheaterElement(self.text(span), span, code=_compact(code[1]))

    def theater(self, children: list[_Tok]) -> _Atom:
        (token,) = children
        span = self.span(token)
        code = _compact(token[1])
        text = self.text(span)
        if code[0] == "T":
            if code in lexicon.THEATER_CODES:
                return TheaterElement(text, span, code=code)
            return CoverCodeElement(text, span, code=code)
        platoon = self.unit(span, Echelon.PLATOON, code[1:])
        if code in lexicon.THEATER_CODES:
            self.has_platoon_or_theater = True
            return _PlatoonOrTheater(TheaterElement(text, span, code=code), platoon)
        return platoon

    def mailbox(self, children: list[_Tok | None]) -> _Atom:
        head, number, letters, tail = children
        assert head is not None
        assert number is not None
        last = tail or letters or number
        span = (self.span(head)[0], self.span(last)[1])
        return MailboxElement(
            self.text(span),
            span,
            number=number[1],
            letters=letters[1].upper() if letters else None,
            theater=_compact(tail[1].lstrip("-–—/")) if tail else None,
        )

    def mailbox_head_only(self, children: list[_Tok]) -> _Atom:
        return _Unknown(self.span(children[0]))

    def cover_code(self, children: list[_Tok]) -> _Atom:
        (token,) = children
        span = self.span(token)
        return CoverCodeElement(self.text(span), span, code=token[1].upper())

    def kbc(self, children: list[_Tok]) -> _Atom:
        (token,) = children
        span = self.span(token)
        digits = "".join(_CODE_PARTS.findall(token[1])[1:])
        self.notices.append(_kbc_notice(span))
        return CoverCodeElement(self.text(span), span, code=f"KBC {digits}")

    def tag(self, children: list[_Tok]) -> _Atom:
        (token,) = children
        span = self.span(token)
        value = token[1]
        if value.startswith("sh"):  # "SH 1 - 99X" -> "SH 1-99X"
            _, first, *rest = _CODE_PARTS.findall(value)
            code = f"SH {first}-{''.join(rest)}"
        else:  # "934B. DKI. XUAN VINH" -> "934B.DKI.XUAN VINH"
            code = ".".join(_SPACES.sub(" ", part.strip()) for part in value.split("."))
        return TagElement(self.text(span), span, code=code.upper())

    def date(self, children: list[_Tok]) -> _Atom:
        (token,) = children
        span = self.span(token)
        self.notices.append(_date_notice(self.text(span), span))
        return _Unknown(span)

    def bare_number(self, children: list[_Tok]) -> _Atom:
        (token,) = children
        self.has_number = True
        number, suffix = _number_parts(token[1])
        return _Number(self.span(token), number, suffix)

    def branch_only(self, children: list[_BranchWords]) -> _Atom:
        return _Unknown(children[0].span)

    def separator(self, children: list[_Tok]) -> _Atom:
        (token,) = children
        value = token[1]
        if value in lexicon.LIST_SEPARATORS:
            self.has_list_separator = True
        elif value in lexicon.OPENING_BRACKETS:
            self.has_bracket = True
        return _Sep(self.span(token), value)

    def word(self, children: list[_Tok]) -> _Atom:
        (token,) = children
        self.has_words = True
        return _Word(self.span(token), token[1])

    def other(self, children: list[_Tok]) -> _Atom:
        return _Unknown(self.span(children[0]))


def _compact(code: str) -> str:
    """ "b 5" -> "B5"."""
    return _SPACES.sub("", code).upper()


def _date_notice(text: str, span: Span) -> Notice:
    return Notice(
        code="date_in_designation",
        message_vi=(
            f"«{text}» là ngày tháng, không phải một phần của phiên hiệu; "
            "hãy nhập ngày hy sinh vào ô ngày."
        ),
        message_en=(
            f"«{text}» is a date, not part of the designation; "
            "give the date of death in the date field."
        ),
        span=span,
    )


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


def _places(atoms: Sequence[_Atom], call: _Call) -> list[_Atom]:
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
        out.append(PlaceElement(call.text(span), span, name=call.name(span)))
        i = end + 1
    return out


def _lone_theater_letter(atoms: Sequence[_Atom], call: _Call) -> list[_Atom]:
    """ "B" as the whole designation is the theatre B (A, B, C, Đ, K: brief §4).

    Anywhere else a lone letter says too little to be read as a theatre ("đi B" is
    "went south", an initial may be a name), so it stays not understood.
    """
    meaningful = [atom for atom in atoms if not isinstance(atom, _Sep)]
    if len(meaningful) == 1:
        (atom,) = meaningful
        if isinstance(atom, _Word) and atom.folded in lexicon.THEATER_LETTERS:
            code = call.name(atom.span).upper()
            return [TheaterElement(call.text(atom.span), atom.span, code=code)]
    return list(atoms)


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
    start = unit.span[0]
    return UnitElement(
        text=source[start:end],
        span=(start, end),
        echelon=unit.echelon,
        number=unit.number,
        numbers=(*unit.numbers, number),
        suffix=unit.suffix,
        branch=unit.branch,
        name=unit.name,
    )


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


def _numbered_codes(atoms: Sequence[_Atom], source: str) -> list[_Atom]:
    """ "7-KB" with no unit to hold the number: one opaque code "7-KB" (brief §4)."""
    out: list[_Atom] = []
    i = 0
    while i < len(atoms):
        atom = atoms[i]
        if isinstance(atom, _Number) and atom.suffix is None and i + 2 < len(atoms):
            dash, code = atoms[i + 1], atoms[i + 2]
            if (
                isinstance(dash, _Sep)
                and dash.value == "-"
                and isinstance(code, CoverCodeElement)
                and code.code in lexicon.COVER_CODES
            ):
                span = (atom.span[0], code.span[1])
                text = source[span[0] : span[1]]
                out.append(CoverCodeElement(text, span, code=f"{atom.number}-{code.code}"))
                i += 3
                continue
        out.append(atom)
        i += 1
    return out


_NOT_UNDERSTOOD_ATOMS: Final = frozenset({_Bare, _Number, _Word, _Unknown, _PlatoonOrTheater})


def _finish(atoms: Sequence[_Atom], source: str) -> list[Element]:
    """Drop separators; join what is left not understood into text elements."""
    elements: list[Element] = []
    pending: Span | None = None  # a run of adjacent atoms not understood
    for atom in atoms:
        kind = type(atom)
        if kind in _NOT_UNDERSTOOD_ATOMS:
            pending = atom.span if pending is None else (pending[0], atom.span[1])
            continue
        if pending is not None:
            elements.append(TextElement(source[pending[0] : pending[1]], pending))
            pending = None
        if kind is not _Sep:
            elements.append(atom)  # type: ignore[arg-type]  # every other atom is an Element
    if pending is not None:
        elements.append(TextElement(source[pending[0] : pending[1]], pending))
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


@dataclass(frozen=True, slots=True)
class _Repaired:
    """Input converted from a legacy encoding, and where its characters came from."""

    encoding: LegacyEncoding
    text: str
    from_original: dict[int, int]  # original offset -> converted offset, at character bounds

    def slice(self, span: Span) -> str:
        """The converted text of an original span (whose ends are character bounds)."""
        return self.text[self.from_original[span[0]] : self.from_original[span[1]]]


# Latin-1 letters beyond ASCII, with no Vietnamese letter beyond Latin-1 (ă đ ơ ư ạ ... and
# combining marks): the only text that can be TCVN3 or VNI mojibake (see legacy.py).
_LATIN1_HIGH = re.compile("[\\x80-\\x9f\\xa1-\\xff]")  # not U+00A0, a no-break space
_BEYOND_LATIN1 = re.compile("[\u0100-\u024f\u0300-\u036f\u1e00-\u1eff]")


def _maybe_legacy(text: str) -> bool:
    """Whether `text` could be TCVN3 or VNI mojibake (cheap: most input is ASCII or Unicode)."""
    return (
        not text.isascii()
        and _LATIN1_HIGH.search(text) is not None
        and _BEYOND_LATIN1.search(text) is None
    )


def _prepare(text: str, encoding: LegacyEncoding | None) -> tuple[_Call, str]:
    """The call state and the folded text for the grammar, converted from `encoding` first."""
    if encoding is None:
        if text.isascii():
            return _Call(text, None, None), text.lower()
        folded = fold_for_parsing(text)
        return _Call(text, folded.starts, folded.ends), folded.text
    converted, came_from = from_legacy_mapped(text, encoding)
    bounds = (*came_from, len(text))  # converted offset -> original offset
    folded = fold_for_parsing(converted)
    if folded.starts is None or folded.ends is None:
        starts: Sequence[int] = came_from
        ends: Sequence[int] = bounds[1:]
    else:
        starts = [bounds[i] for i in folded.starts]
        ends = [bounds[i] for i in folded.ends]
    repaired = _Repaired(
        encoding,
        converted,
        from_original={at: i for i, at in enumerate(bounds)},
    )
    call = _Call(text, starts, ends, repaired)
    call.notices.append(_legacy_notice(encoding))
    return call, folded.text


def _legacy_notice(encoding: LegacyEncoding) -> Notice:
    name = {LegacyEncoding.TCVN3: "TCVN3 (ABC)", LegacyEncoding.VNI: "VNI-Windows"}[encoding]
    return Notice(
        code="legacy_encoding",
        message_vi=(
            f"Văn bản được gõ bằng bảng mã cũ {name}; đã chuyển sang Unicode trước khi đọc. "
            "Tên hiển thị là bản đã chuyển."
        ),
        message_en=(
            f"The text was typed in the old {name} encoding and was converted to Unicode "
            "before parsing; names are shown as converted."
        ),
    )


# Items of one token: what the grammar's alias for that token alone builds.
_ALONE: Final[dict[str, Callable[[_Call, list[Any]], _Atom]]] = {
    "SEP": _Call.separator,
    "HYPHEN": _Call.separator,
    "CONNECTIVE": _Call.separator,
    "WORD": _Call.word,
    "NUMBER": _Call.bare_number,
    "THEATER": _Call.theater,
    "COVER": _Call.cover_code,
    "CODE": _Call.cover_code,
    "KBC": _Call.kbc,
    "TAG": _Call.tag,
    "DATE": _Call.date,
    "OTHER": _Call.other,
}
_ECHELON_TERMINALS: Final = frozenset({"ECHELON_WORD", "FRONT_WORD"})


def _group(call: _Call, tokens: Sequence[lalr.Token]) -> list[_Atom]:
    """The grammar's items, built from tokens without the LALR machinery.

    Valid for token sequences that `lalr.scan` read without a contextual terminal
    (a mailbox head): then the items of grammar/designation.lark are few and short,
    and taking each as long as it goes is exactly how the grammar's conflicts resolve
    (shift). The builder methods are the same, called in the same order.
    tests/test_parse_engine.py checks that this gives what the LALR parse gives.
    """
    atoms: list[_Atom] = []
    count = len(tokens)
    i = 0
    while i < count:
        token = tokens[i]
        kind = token[0]
        i += 1
        following = tokens[i][0] if i < count else None
        if kind == "LETTER_UNIT":  # LETTER_UNIT [branch]
            branch = None
            if following == "BRANCH":
                branch = call.branch([tokens[i]])
                i += 1
            atoms.append(call.unit_letter([token, branch]))
        elif kind in _ECHELON_TERMINALS:
            if following == "THEATER" and kind == "FRONT_WORD":  # FRONT_WORD THEATER
                atoms.append(call.front_theater([token, tokens[i]]))
                i += 1
                continue
            # echelon [branch] [words] NUMBER [branch] | echelon [branch] words
            # | echelon (COVER | CODE) | echelon [branch]
            word = call.echelon([token])
            before = None
            if following == "BRANCH":
                before = call.branch([tokens[i]])
                i += 1
            start = i
            if i < count and tokens[i][0] == "WORD":  # words: WORD (WORD | HYPHEN)*
                i += 1
                while i < count and tokens[i][0] in ("WORD", "HYPHEN"):
                    i += 1
            words = call.words(list(tokens[start:i])) if i > start else None
            following = tokens[i][0] if i < count else None
            if following == "NUMBER":
                number = tokens[i]
                i += 1
                after = None
                if i < count and tokens[i][0] == "BRANCH":
                    after = call.branch([tokens[i]])
                    i += 1
                atoms.append(call.unit_numbered([word, before, words, number, after]))
            elif words is not None:
                atoms.append(call.unit_named([word, before, words]))
            elif before is None and following in ("COVER", "CODE"):
                atoms.append(call.echelon_code([word, tokens[i]]))
                i += 1
            else:
                atoms.append(call.echelon_only([word, before]))
        elif kind == "BRANCH":
            atoms.append(call.branch_only([call.branch([token])]))
        else:
            atoms.append(_ALONE[kind](call, [token]))
    return atoms


def _read(
    text: str, encoding: LegacyEncoding | None = None, *, shortcut: bool = True
) -> _Call | None:
    """Run the grammar over the folded text; the atoms are left in the returned `_Call`.

    Designations without a mailbox are grouped into items directly (`_group`); the
    others go through the LALR driver, whose lexer depends on the parser's state.
    `shortcut=False` sends every input through the driver (tests compare the two).
    The grammar is total, so this does not raise for any text; None would mean a
    defect, handled by `parse_uncached`.
    """
    call, folded = _prepare(text, encoding)
    engine = _engine()
    try:
        if not shortcut:
            call.atoms = lalr.run(engine.tables, folded, engine.builders, call)
            return call
        tokens = lalr.scan(engine.tables, folded)
        if engine.contextual_hint.search(folded) is None or engine.contextual.isdisjoint(
            [token[0] for token in tokens]
        ):
            call.atoms = _group(call, tokens)
        else:
            call.atoms = lalr.run(engine.tables, folded, engine.builders, call)
    except Exception:  # a defect: `parse` promises not to raise, so report and carry on
        _log.exception("designation parser failed on %r", text)
        return None
    return call


def parse(text: str, *, remember: bool = True) -> ParseResult:
    """Parse a designation into typed elements, spans into `text`, residue and warnings.

    Accepts at most MAX_INPUT_CHARS (500) characters and raises InputTooLong
    beyond that, before any work; otherwise never raises. Results are
    immutable and memoised (martyr lists repeat the same designation many times);
    `remember=False` for a caller that keeps its own (a batch worker).
    """
    if len(text) > MAX_INPUT_CHARS:
        raise InputTooLong(
            f"The designation is {len(text)} characters long; "
            f"at most {MAX_INPUT_CHARS} characters are accepted.",
            detail_vi=(f"Ký hiệu dài {len(text)} ký tự; chỉ nhận tối đa {MAX_INPUT_CHARS} ký tự."),
            extra={"length": len(text), "max_chars": MAX_INPUT_CHARS},
        )
    return _parse_memoised(text) if remember else parse_uncached(text)


@lru_cache(maxsize=_MEMO_SIZE)
def _parse_memoised(text: str) -> ParseResult:
    return parse_uncached(text)


def clear_token_memos() -> None:
    """Forget what the small per-token memos hold (for bench/parse.py's cold figure).

    They remember pure functions of one token or word ("c9" -> company 9), bounded in
    size; unlike the memo of `parse` they never hold a whole designation.
    """
    for memo in (_number_parts, _letter_unit_parts, _echelon_of, _branch_of):
        memo.cache_clear()
    fold_cluster_memo_clear()
    legacy.clear_memos()


def parse_uncached(text: str, *, shortcut: bool = True) -> ParseResult:
    """`parse` without the length check and the memo: for tests and benchmarks.

    `shortcut=False` parses every input with the LALR driver (see `_read`).
    """
    if _maybe_legacy(text):
        detected = detect_legacy(text)
        if detected is not None or has_legacy_clues(text):
            return _best_reading(text, detected, shortcut)
    return _parse(text, None, shortcut)


def _best_reading(text: str, detected: LegacyEncoding | None, shortcut: bool) -> ParseResult:
    """Read text that may be TCVN3 or VNI mojibake as it is, or converted: the reading that
    leaves the fewest characters not understood.

    Letters alone cannot always tell: `detect_legacy` needs a few words, and a stray
    "·" looks like TCVN3 "ã". Among equally good readings the encoding that
    `detect_legacy` found wins, then the text as it is, then the only encoding left;
    so a conversion never makes a designation less understood, and "TÑ9" (VNI "TĐ9",
    TCVN3 "Tẹ9") is read as the battalion when only VNI makes sense of it.
    """
    # The reading preferred on a tie needs no rival if it leaves nothing not understood.
    first = _parse(text, detected, shortcut)
    if not first.residue:
        return first
    readings: dict[LegacyEncoding | None, ParseResult] = {detected: first}
    for encoding in (None, *LegacyEncoding):
        if encoding not in readings:
            readings[encoding] = _parse(text, encoding, shortcut)
    least = min(_not_understood_chars(r) for r in readings.values())
    best = [e for e, r in readings.items() if _not_understood_chars(r) == least]
    if detected in best:
        return readings[detected]
    if None in best or len(best) > 1:
        return readings[None]
    return readings[best[0]]


def _not_understood_chars(result: ParseResult) -> int:
    return sum(end - start for start, end in (r.span for r in result.residue))


def _parse(text: str, encoding: LegacyEncoding | None, shortcut: bool) -> ParseResult:
    call = _read(text, encoding, shortcut=shortcut)
    if call is None:
        # Unreachable by design (the grammar is total, and the tests check it); should a
        # defect ever get here, the whole input is reported as not understood.
        stripped = text.strip()
        start = text.find(stripped) if stripped else 0
        call = _Call(text, None, None)
        call.atoms = [_Unknown((start, start + len(stripped)))] if stripped else []
    atoms = call.atoms
    if call.has_words:
        atoms = _places(atoms, call)
        atoms = _lone_theater_letter(atoms, call)
    if call.has_platoon_or_theater:
        atoms = _platoons_or_theaters(atoms)
    if call.has_list_separator:
        atoms = _lists(atoms, text)
    if call.has_bracket:
        atoms = _brackets(atoms, text)
    if call.has_number:
        atoms = _numbered_codes(atoms, text)
    elements = _finish(atoms, text)
    if call.starts is not None:
        elements = _disjoint(elements, text)
    residue = [Residue(e.text, e.span) for e in elements if type(e) is TextElement]
    warnings = call.notices
    if residue:
        warnings.append(_not_understood(residue))
    return ParseResult(
        input=text, elements=tuple(elements), residue=tuple(residue), warnings=tuple(warnings)
    )
