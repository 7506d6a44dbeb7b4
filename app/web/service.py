"""What each page shows: one use case per page, built on the decode, unit and edition services.

Mistakes in what a person typed (a date not understood, an unknown edition,
text too long) come back as a message beside the form they typed it in, with
the form kept filled; anything else is raised and becomes the error page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from app.batch.service import MAX_FILE_BYTES, DecodedFile, decode_file
from app.context import Context
from app.db.models import UNIT_ECHELONS
from app.decode.repository import EditionReader
from app.decode.service import decode
from app.editions.service import edition_ref, list_editions, resolve_edition
from app.errors import PhienhieuError
from app.parsing import MAX_INPUT_CHARS
from app.parsing.dates import DateRange, parse_date
from app.research.errors import InvalidQuery
from app.research.service import search_units
from app.research.text import search_text
from app.units.service import unit_history
from app.web import present
from app.web.i18n import translate

MAX_QUERY_CHARS = 200  # as the research search allows
SEARCH_PAGE_SIZE = 20

# Shown under the empty form: real records from the domain brief that the sample edition knows.
EXAMPLES = (
    ("Công trường 9", "1968"),
    ("C16 súng cối - thuộc Ebb2, F9", "1970"),
    ("Tiểu đoàn 7, 8, Trung đoàn 64, Sư đoàn 320A, Quân đoàn 3", "1968"),
    ("Quân khu 2", ""),
)


@dataclass(frozen=True, slots=True)
class FormError:
    """A message for the person at the form, in both languages."""

    status: int
    vi: str
    en: str

    @classmethod
    def of(cls, exc: PhienhieuError) -> FormError:
        return cls(exc.status, exc.detail_vi, exc.detail)

    @classmethod
    def key(cls, status: int, key: str, **values: object) -> FormError:
        return cls(status, translate("vi", key, **values), translate("en", key, **values))

    def text(self, lang: str) -> str:
        return self.vi if lang == "vi" else self.en


@dataclass(frozen=True, slots=True)
class SearchForm:
    """What /search was asked, as typed (None: not given)."""

    q: str | None = None
    echelon: str | None = None
    period: str | None = None
    fuzzy: str | None = None
    edition: str | None = None
    next: str | None = None


@dataclass(slots=True)
class Page:
    """A template's variables and the HTTP status to answer with."""

    context: dict[str, Any]
    status: int = 200
    error: FormError | None = None

    def __post_init__(self) -> None:
        self.context["error"] = self.error


def _editions(session: Session) -> list[dict[str, Any]]:
    return [edition_ref(e) for e in list_editions(session)]


def _latest_label(editions: list[dict[str, Any]]) -> str:
    published = [e for e in editions if e["status"] == "published"]
    return str(published[-1]["label"]) if published else ""


def decode_page(
    context: Context, session: Session, text: str | None, date: str | None, edition: str | None
) -> Page:
    """The decode form, and the answer when text was given."""
    editions = _editions(session)
    form = {"text": text or "", "date": date or "", "edition": edition or ""}
    answer: dict[str, Any] | None = None
    error: FormError | None = None
    if text is not None and not text.strip():
        error = FormError.key(422, "form.empty_text")
    elif text is not None:
        try:
            answer = decode(context, session, text, date or None, edition or None)
        except PhienhieuError as exc:
            error = FormError.of(exc)
    selected = answer["edition"]["label"] if answer else (edition or _latest_label(editions))
    view: dict[str, Any] = {
        "form": form,
        "editions": editions,
        "selected_edition": selected,
        "max_chars": MAX_INPUT_CHARS,
        "examples": EXAMPLES,
        "answer": answer,
    }
    if answer is not None:
        view["segments"] = present.segments(answer["input"], present.answer_marks(answer))
        view["warnings"] = present.all_warnings(answer)
        view["best"] = answer["candidates"][0] if answer["candidates"] else None
        view["others"] = answer["candidates"][1:]
        view["permalink"] = {
            "text": answer["input"],
            "date": (answer["date"] or {}).get("text", ""),
            "edition": answer["edition"]["label"],
        }
    return Page(view, error.status if error else 200, error)


def unit_page(context: Context, session: Session, unit_id: str, edition: str | None) -> Page:
    """A unit's history by period; an unknown unit or edition is the 404 error page."""
    chosen = resolve_edition(session, edition or None)
    history = unit_history(context.reader(chosen), chosen, unit_id)
    return Page({"unit": history, "timeline": present.timeline(history), "edition_param": edition})


def search_page(
    context: Context,
    session: Session,
    asked: SearchForm,
) -> Page:
    """Units found by name or code (the researchers' search and ranking), a page at a time."""
    q, echelon = asked.q, asked.echelon
    form = {
        "q": q or "",
        "echelon": echelon or "",
        "period": asked.period or "",
        # The box asks for similar names even when some match; otherwise only when none does.
        "fuzzy": "always" if asked.fuzzy == "always" else "",
        "edition": asked.edition or "",
    }
    view: dict[str, Any] = {
        "form": form,
        "echelons": UNIT_ECHELONS,
        "result": None,
        "max_chars": MAX_QUERY_CHARS,
    }
    if q is None:
        return Page(view)
    error: FormError | None = None
    if not q.strip():
        error = FormError.key(422, "search.empty")
    elif len(q) > MAX_QUERY_CHARS:
        error = FormError.key(422, "search.too_long", n=MAX_QUERY_CHARS)
    elif not search_text(q):
        error = FormError.key(422, "search.no_letters")
    elif echelon and echelon not in UNIT_ECHELONS:
        error = FormError.key(422, "search.bad_echelon", value=echelon)
    else:
        try:
            when = parse_date(asked.period)
            chosen = resolve_edition(session, asked.edition or None)
            found = search_units(
                session,
                chosen,
                q,
                size=SEARCH_PAGE_SIZE,
                date=when,
                echelon=(echelon,) if echelon else (),
                fuzzy=form["fuzzy"] or "auto",
                next=asked.next or None,
            )
            reader = context.reader(chosen)
            view["result"] = {
                "hits": [_hit(row, reader, when) for row in found.rows],
                "later": bool(asked.next),  # not the first page
                "next_url": _search_url(form, found.next) if found.next else None,
                "first_url": _search_url(form, None),
            }
            view["edition"] = edition_ref(chosen)
        except InvalidQuery as exc:
            # The page checked the rest above; a `next` it did not give is said in its words.
            error = FormError.key(422, "search.bad_page") if asked.next else FormError.of(exc)
        except PhienhieuError as exc:
            error = FormError.of(exc)
    return Page(view, error.status if error else 200, error)


def _hit(row: dict[str, Any], reader: EditionReader, when: DateRange | None) -> dict[str, Any]:
    """A search row for the page: a code it matched by says what kind it is and when it held."""
    matched = row["match"]["text"]
    codes = (
        []
        if matched == row["name"]
        else [
            {"kind": d.kind, "valid": d.validity.to_json(), "fit": d.validity.fit(when).value}
            for d in reader.designations(row["id"])
            if d.code == matched
        ]
    )
    return {**row, "codes": codes}


def _search_url(form: dict[str, str], next_token: str | None) -> str:
    """The page's address for the same search, at the page after `next_token` (or the first)."""
    pairs = [(k, v) for k, v in form.items() if v]
    if next_token:
        pairs.append(("next", next_token))
    return f"/search?{urlencode(pairs)}#results"


def batch_page(
    session: Session, error: FormError | None = None, form: dict[str, str] | None = None
) -> Page:
    """The upload form for a list to decode."""
    editions = _editions(session)
    form = form or {}
    view = {
        "form": {
            "edition": form.get("edition") or _latest_label(editions),
            "column": form.get("column", ""),
            "date_column": form.get("date_column", ""),
        },
        "editions": editions,
        "max_megabytes": MAX_FILE_BYTES // (1024 * 1024),
    }
    return Page(view, error.status if error else 200, error)


def batch_upload(
    context: Context,
    session: Session,
    filename: str | None,
    content: bytes | None,
    form: dict[str, str],
) -> DecodedFile | Page:
    """The uploaded list decoded by the batch engine (issue 5), or the form saying what went wrong.

    `content` None means the file was too large to read in.
    """
    if not filename:
        return batch_page(session, FormError.key(422, "batch.no_file"), form)
    if content is None:
        megabytes = MAX_FILE_BYTES // (1024 * 1024)
        return batch_page(session, FormError.key(413, "batch.too_large", n=megabytes), form)
    try:
        return decode_file(
            context,
            session,
            filename,
            content,
            edition=form.get("edition") or None,
            column=form.get("column") or None,
            date_column=form.get("date_column") or None,
        )
    except PhienhieuError as exc:
        return batch_page(session, FormError.of(exc), form)
