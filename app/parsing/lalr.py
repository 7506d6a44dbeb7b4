"""A lean driver for the LALR(1) tables that Lark compiles from grammar/designation.lark.

Lark stays the compiler of the grammar: it builds the parse table (with its
documented shift/reduce resolutions) and the contextual lexer's terminal order
for each parser state. This module only *runs* those tables, the way Lark's own
`ParserState.feed_token` and `ContextualLexer` do, but without what a general
library pays for on every token and that designations never need: Token objects
with line and column counters, per-token callbacks, and several wrapper layers
around each rule's builder. Tokens are plain tuples `(type, value, start, end)`,
and whitespace is skipped by the scanner itself. That alone made parsing about
2.5 times faster; `scan` then lets parser.py skip the LALR loop for most input.

It reads Lark internals (`ParseTable.states`, the per-state lexers), so
`compile_tables` checks the few facts it relies on, and tests/test_parse_engine.py
checks that it derives exactly the trees that Lark's own parser derives, on the
golden corpus and on random input: a Lark release that changes them fails there.

Semantics kept from Lark (LALR, `maybe_placeholders=True`):

- the lexer for the next token is chosen by the state on top of the stack
  before that token's reductions, and tries the terminals that state accepts
  in Lark's order (priority, then width), first match wins;
- `[x]` that matched nothing gives a None child in its place;
- rules whose name starts with "_" (Lark's helpers for `*` and `+`) are spliced
  into their parent's children.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from lark import Lark
from lark.parsers.lalr_analysis import Shift

Token = tuple[str, str, int, int]
"""(terminal name, matched text, start, end): offsets into the text that was parsed."""

END: Final = "$END"


@dataclass(frozen=True, slots=True)
class Rule:
    """A grammar rule as the driver needs it."""

    name: str  # the alias if any ("unit_numbered"), else the rule's name ("echelon")
    origin: str  # the rule's name, for the goto after a reduction
    size: int  # symbols on the right-hand side
    slots: tuple[int, ...] | None  # Nones to insert before each child and after the last
    splice: tuple[bool, ...]  # which children are helper rules, to be spliced
    helper: bool  # this rule is a helper: its children go to the parent


# size, origin, helper, slots, whether any child is spliced, which
_Step = tuple[int, str, bool, tuple[int, ...] | None, bool, tuple[bool, ...]]


@dataclass(frozen=True, slots=True)
class Tables:
    """Everything the driver needs, compiled once from a Lark LALR parser."""

    # Per state: symbol -> (True, next state) for a shift, (False, rule index) for a reduce.
    actions: tuple[dict[str, tuple[bool, int]], ...]
    scanners: tuple[re.Pattern[str], ...]  # per state: the terminals it accepts, in Lark's order
    start_scanner: re.Pattern[str]  # the start state's terminals, for `scan`
    accepts: tuple[frozenset[str], ...]  # per state: the terminals its lexer tries
    ignore: frozenset[str]
    rules: tuple[Rule, ...]
    steps: tuple[_Step, ...]  # the rules as tuples, unpacked faster in the driver's loop
    start: int
    end: int


def _slots(empty_indices: Sequence[bool], size: int) -> tuple[int, ...] | None:
    """Lark's placeholder layout: how many Nones go before each child (and after the last)."""
    if not empty_indices or not any(empty_indices):
        return None
    runs = "".join("1" if empty else "0" for empty in empty_indices).split("0")
    counts = tuple(len(run) for run in runs)
    assert len(counts) == size + 1, (empty_indices, size)
    return counts


def _plain(name: str) -> str:
    """Lark names symbols with Token, a str subclass whose == is slow: use plain strings."""
    return sys.intern(str.__str__(name))


def compile_tables(parser: Lark) -> Tables:
    """Read the parse table and the contextual lexers of a Lark LALR parser."""
    frontend: Any = parser.parser
    table: Any = frontend.parser.parser.parse_table
    lexer: Any = frontend.lexer
    assert parser.options.parser == "lalr"
    assert parser.options.lexer == "contextual"
    assert parser.options.maybe_placeholders
    assert len(table.start_states) == 1

    rules: list[Rule] = []
    index: dict[int, int] = {}
    for rule in parser.rules:
        options = rule.options
        # Features this driver does not implement: the grammar must not use them.
        assert not options.keep_all_tokens, rule
        assert not options.expand1 or rule.alias, rule  # "?rule" only with an alias
        assert not any(getattr(s, "filter_out", False) for s in rule.expansion), rule
        origin = _plain(rule.origin.name)
        size = len(rule.expansion)
        index[id(rule)] = len(rules)
        rules.append(
            Rule(
                name=str(rule.alias or origin),
                origin=origin,
                size=size,
                slots=_slots(options.empty_indices, size),
                splice=tuple(not s.is_term and s.name.startswith("_") for s in rule.expansion),
                helper=origin.startswith("_"),
            )
        )
        assert rules[-1].slots is None or True not in rules[-1].splice, rule  # not both

    states = sorted(table.states)
    assert states == list(range(len(states)))
    actions = tuple(
        {
            _plain(symbol): (True, arg) if action is Shift else (False, index[id(arg)])
            for symbol, (action, arg) in table.states[state].items()
        }
        for state in states
    )

    flags = lexer.root_lexer.g_regex_flags
    ignore = frozenset(_plain(name) for name in lexer.root_lexer.ignore_types)
    # The ignored terminal (whitespace) is skipped by the scanner itself: a leading `\s*`
    # saves the driver a round per gap. That it can start no other terminal is checked.
    assert ignore <= {"WS"}, ignore
    assert all(
        t.pattern.to_regexp() == "\\s+" for t in lexer.root_lexer.terminals if t.name in ignore
    )
    compiled: dict[tuple[str, ...], str] = {}
    for state in states:
        terminals = lexer.lexers[state].terminals  # sorted the way Lark tries them
        key = tuple(t.name for t in terminals)
        if key not in compiled:
            compiled[key] = "|".join(
                f"(?P<{t.name}>{t.pattern.to_regexp()})" for t in terminals if t.name not in ignore
            )
    alternatives = [
        compiled[tuple(t.name for t in lexer.lexers[state].terminals)] for state in states
    ]
    by_pattern = {a: re.compile(f"\\s*(?:{a}|\\Z)", flags) for a in set(alternatives)}

    (start,) = table.start_states.values()
    (end,) = table.end_states.values()
    return Tables(
        actions=actions,
        scanners=tuple(by_pattern[a] for a in alternatives),
        start_scanner=re.compile(f"\\s*(?:{alternatives[start]})", flags),
        accepts=tuple(
            frozenset(_plain(t.name) for t in lexer.lexers[state].terminals) for state in states
        ),
        ignore=ignore,
        rules=tuple(rules),
        steps=tuple(
            (r.size, r.origin, r.helper, r.slots, True in r.splice, r.splice) for r in rules
        ),
        start=start,
        end=end,
    )


class SyntaxDefect(Exception):
    """The tables have no action for a token: for a total grammar, a defect."""


def scan(tables: Tables, text: str) -> list[Token]:
    """Every token of `text` as the start state's lexer reads it, whitespace skipped.

    This is the contextual lexer's reading as long as the parser stays in states that
    try the same terminals as the start state; the caller knows which tokens lead
    elsewhere (`contextual_terminals`) and must not use the result past them.
    """
    return [
        (kind, match.group(kind), *match.span(kind))
        for match in tables.start_scanner.finditer(text)
        if (kind := match.lastgroup) is not None
    ]


def contextual_terminals(tables: Tables) -> frozenset[str]:
    """Terminals after which the parser may be in a state whose lexer tries other terminals."""
    usual = tables.accepts[tables.start]
    leading: set[str] = set()
    for actions in tables.actions:
        for symbol, (shift, target) in actions.items():
            if shift and tables.accepts[target] != usual:
                # Entered by a terminal the usual lexer reads, or by a goto after a reduction;
                # the second would make `scan` wrong anywhere, so it must not happen.
                assert symbol.isupper() or target == tables.end, (symbol, target)
                leading.add(symbol)
    return frozenset(leading & usual)


def run(
    tables: Tables,
    text: str,
    builders: Sequence[Callable[[Any, list[Any]], Any]],
    context: Any,
    tokens: Sequence[Token] | None = None,
) -> Any:
    """Parse `text`; `builders[i](context, children)` builds the value of rule i.

    `tokens`, if given, is `text` already read by `scan`, valid because it holds none of
    the `contextual_terminals`.
    """
    actions = tables.actions
    scanners = tables.scanners
    rules = tables.steps
    end_state = tables.end
    states: list[int] = [tables.start]
    values: list[Any] = []
    pos = 0
    given = len(tokens) if tokens is not None else -1
    token: Token | None
    while True:
        if given < 0:
            match = scanners[states[-1]].match(text, pos)
            if match is None:
                raise SyntaxDefect(f"no terminal matches at {pos}")
            kind = match.lastgroup
            if kind is None:  # only whitespace was left
                kind, token = END, None
            else:
                start, pos = match.span(kind)
                token = (kind, match.group(kind), start, pos)
        elif pos < given:
            token = tokens[pos]  # type: ignore[index]  # given >= 0: tokens is a sequence
            kind = token[0]
            pos += 1
        else:
            kind, token = END, None
        while True:
            try:
                shift, arg = actions[states[-1]][kind]
            except KeyError:
                raise SyntaxDefect(f"unexpected {kind} at {pos}") from None
            if shift:
                states.append(arg)
                values.append(token)
                break
            size, origin, helper, slots, has_splice, splice = rules[arg]
            if size:
                children = values[-size:]
                del states[-size:]
                del values[-size:]
            else:
                children = []
            if has_splice:
                flat: list[Any] = []
                for child, spliced in zip(children, splice, strict=True):
                    if spliced:
                        flat.extend(child)
                    else:
                        flat.append(child)
                children = flat
            if helper:
                value: Any = children  # spliced into the parent's children (its `splice`)
            else:
                if slots is not None:
                    filled: list[Any] = [None] * slots[0]
                    for child, before in zip(children, slots[1:], strict=True):
                        filled.append(child)
                        filled.extend([None] * before)
                    children = filled
                value = builders[arg](context, children)
            states.append(actions[states[-1]][origin][1])
            values.append(value)
            if token is None and states[-1] == end_state:
                return values[-1]
