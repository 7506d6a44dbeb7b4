"""The `phienhieu` command: serve, parse, decode, and database / codebook maintenance."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.context import Context, collect_rarely
from app.db import migrate
from app.decode import service
from app.errors import PhienhieuError
from app.settings import Settings

STATUS_VI = {
    "resolved": "đã giải mã",
    "partial": "giải mã một phần",
    "ambiguous": "nhiều khả năng",
    "unresolved": "không tìm thấy",
    "invalid": "không hợp lệ",
}


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"PHIENHIEU_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()
        )
        raise click.ClickException(f"cấu hình sai / bad configuration: {problems}") from None


def _fail(exc: PhienhieuError) -> click.ClickException:
    lines = [f"{exc.detail_vi}", f"{exc.detail}"] if exc.detail_vi != exc.detail else [exc.detail]
    for p in exc.extra.get("problems", []):
        where = f"{p['file']}:{p['line']}" if p.get("line") else p["file"]
        column = f" [{p['column']}]" if p.get("column") else ""
        lines.append(f"  {where}{column}: {p['message']}")
    return click.ClickException("\n".join(lines))


def _inputs(text: str) -> Iterator[str]:
    if text == "-":
        for line in sys.stdin:
            stripped = line.rstrip("\r\n")
            if stripped.strip():
                yield stripped
    else:
        yield text


def _emit(obj: dict[str, Any]) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False))


class _Group(click.Group):
    """Turns database failures into a plain message: no stack trace reaches a user."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SQLAlchemyError as exc:
            reason = getattr(exc, "orig", None) or exc
            raise click.ClickException(
                f"Lỗi cơ sở dữ liệu / database error: {reason}\n"
                "Kiểm tra PHIENHIEU_DATABASE_URL và chạy `phienhieu db upgrade` / "
                "check PHIENHIEU_DATABASE_URL and run `phienhieu db upgrade`."
            ) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Giải mã phiên hiệu đơn vị trong hồ sơ liệt sĩ / Decode unit designations in martyr records.

    Configuration: PHIENHIEU_DATABASE_URL (default: a SQLite file in ~/.local/share/phienhieu).
    """


@main.command()
@click.option("--host", default=None, help="Address to bind (default 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (default 8000).")
def serve(host: str | None, port: int | None) -> None:
    """Run the HTTP API (migrates and loads the sample codebook on first start)."""
    import uvicorn

    from app.main import create_app

    settings = _settings()
    context = Context.from_settings(settings)
    _guard(context.ensure_ready)
    _guard(context.warm)
    from app.batch.service import start_batch_pool

    start_batch_pool(context)
    app = create_app(settings, context=context)
    try:
        uvicorn.run(app, host=host or settings.host, port=port or settings.port, log_level="info")
    finally:
        context.close()  # the batch workers too


@main.command("parse")
@click.argument("text")
@click.option("--json", "as_json", is_flag=True, help="Print the parse result as JSON.")
def parse_cmd(text: str, as_json: bool) -> None:
    """Split TEXT into its parts. TEXT '-' reads one designation per line from stdin."""
    for item in _inputs(text):
        try:
            result = service.parse_text(item).to_json()
        except PhienhieuError as exc:
            if text != "-":
                raise _fail(exc) from None
            result = {"input": item, "error": exc.detail, "error_vi": exc.detail_vi}
        if as_json:
            _emit(result)
            continue
        click.echo(item)
        for element in result.get("elements", []):
            fields = {k: v for k, v in element.items() if k not in ("kind", "text", "span") and v}
            detail = ", ".join(f"{k}={v}" for k, v in fields.items())
            click.echo(f"  {element['kind']:<10} {element['text']!r:<28} {detail}")
        for warning in result.get("warnings", []):
            click.echo(f"  ! {warning['message_vi']} / {warning['message_en']}")
        if "error" in result:
            click.echo(f"  ! {result['error_vi']} / {result['error']}")


@main.command("decode")
@click.argument("text")
@click.option("--date", "date", default=None, help="Date of death (27/1/1968, 1968, …).")
@click.option("--edition", default=None, help="Edition label or number (default: latest).")
@click.option("--json", "as_json", is_flag=True, help="Print the decode result as JSON.")
def decode_cmd(text: str, date: str | None, edition: str | None, as_json: bool) -> None:
    """Decode TEXT for a date of death. TEXT '-' reads one designation per line from stdin."""
    context = Context.from_settings(_settings())
    _guard(context.ensure_ready)
    try:
        for item in _inputs(text):
            try:
                with context.session() as session:
                    result = service.decode(context, session, item, date, edition)
            except PhienhieuError as exc:
                if text != "-":
                    raise _fail(exc) from None
                result = {"input": item, "error": exc.detail, "error_vi": exc.detail_vi}
            if as_json:
                _emit(result)
            else:
                _print_decode(result)
    finally:
        context.close()


def _print_decode(result: dict[str, Any]) -> None:
    if "error" in result:
        click.echo(f"{result['input']}\n  ! {result['error_vi']} / {result['error']}")
        return
    date = f" ({result['date']['text']})" if result.get("date") else ""
    status = result["status"]
    click.echo(
        f"{result['input']}{date}: {STATUS_VI[status]} / {status} "
        f"— ấn bản / edition {result['edition']['label']}"
    )
    for n, cand in enumerate(result["candidates"], 1):
        chain = " → ".join(link["name"] for link in cand["chain"])
        click.echo(f"  {n}. [{cand['score']:.2f}] {chain}")
        for link in cand["chain"]:
            for match in link["matched"]:
                src = match["source"]
                click.echo(
                    f"       {match['text']!r} = {link['name']} "
                    f"({match['verification']}; {src['citation']})"
                )
        for unresolved in cand["unresolved"]:
            click.echo(f"       ? {unresolved['text']!r}: {unresolved['reason']}")
    for warning in result["warnings"]:
        click.echo(f"  ! {warning['message_vi']}\n    {warning['message_en']}")


def _guard(action: Callable[[], Any]) -> Any:
    try:
        return action()
    except PhienhieuError as exc:
        raise _fail(exc) from None


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration to PHIENHIEU_DATABASE_URL (the only way the schema changes)."""
    context = Context.from_settings(_settings())
    try:
        migrate.upgrade(context.engine)
    finally:
        context.close()
    click.echo("Cơ sở dữ liệu đã cập nhật / database is up to date.")


@main.group()
def codebook() -> None:
    """Codebook editions: import bundles."""


@codebook.command("import")
@click.argument("path", type=click.Path(path_type=Path), required=False)
@click.option("--sample", is_flag=True, help="Import the sample codebook shipped with phienhieu.")
@click.option("--label", default=None, help="Edition label (default: from bundle.toml).")
@click.option("--draft", is_flag=True, help="Leave the new edition as a draft (not published).")
@click.option("--into", default=None, metavar="DRAFT", help="Fill this open draft edition instead.")
def codebook_import(
    path: Path | None, sample: bool, label: str | None, draft: bool, into: str | None
) -> None:
    """Validate the bundle at PATH and load it as a new edition, atomically."""
    from app.auth.actor import cli_actor
    from app.editions.service import import_into, import_new_edition
    from codebook.bundle import SAMPLE_BUNDLE, read_bundle

    if (path is None) == (not sample):
        raise click.UsageError("give a bundle PATH or --sample (one of them)")
    context = Context.from_settings(_settings())
    try:
        _guard(context.ensure_ready)
        bundle = _guard(lambda: read_bundle(path or SAMPLE_BUNDLE, label=label))
        with context.session() as session:
            if into is not None:
                _print_draft_import(_guard(lambda: import_into(session, cli_actor(), into, bundle)))
            else:
                outcome = _guard(
                    lambda: import_new_edition(session, cli_actor(), bundle, publish=not draft)
                )
                edition = outcome.edition
                if not outcome.created:
                    click.echo(
                        f"Không có thay đổi: nội dung trùng với ấn bản {edition.label} "
                        f"/ unchanged: same content as edition {edition.label}."
                    )
                    return
                click.echo(
                    f"Ấn bản / edition {edition.label} (#{edition.seq}, {edition.status}): "
                    f"+{outcome.added} rows, {outcome.superseded} superseded."
                )
        _guard(context.refresh_statistics)
    finally:
        context.close()


# --- Editions, export, keys (curation) -----------------------------------------------------


def _print_draft_import(result: dict[str, Any]) -> None:
    label = result["edition"]["label"]
    if not result["changed"]:
        click.echo(
            f"Không có thay đổi: bản nháp {label} đã đúng nội dung này "
            f"/ unchanged: draft {label} already holds this content."
        )
        return
    click.echo(
        f"Bản nháp / draft {label}: +{result['added']} rows, {result['superseded']} superseded."
    )


@contextmanager
def _write_session() -> Iterator[tuple[Context, Session]]:
    """A ready context and one unit of work for a CLI command (committed if it succeeds)."""
    context = Context.from_settings(_settings())
    try:
        _guard(context.ensure_ready)
        with context.session() as session:
            yield context, session
    finally:
        context.close()


@codebook.command("export")
@click.argument("edition")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite the bundle files already in PATH.")
def codebook_export(edition: str, path: Path, force: bool) -> None:
    """Write EDITION (label or number) to the folder PATH in the bundle format import reads."""
    from app.editions.service import export
    from codebook.bundle import FILES, META, write_bundle

    if path.exists() and not path.is_dir():
        raise click.UsageError(f"{path} exists and is not a folder")
    clashes = [n for n in (META, *dict(FILES)) if (path / n).exists()]
    if clashes and not force:
        raise click.ClickException(
            f"{path} đã có gói dữ liệu / already holds a bundle ({', '.join(clashes)}); "
            "dùng / use --force"
        )
    with _write_session() as (_, session):
        chosen, bundle = _guard(lambda: export(session, edition))
        write_bundle(bundle, path)
        rows = sum(len(r) for r in bundle.tables().values())
        click.echo(
            f"Đã xuất ấn bản / exported edition {chosen.label} (#{chosen.seq}, {chosen.status}, "
            f"{rows} rows) → {path}"
        )


@main.group()
def editions() -> None:
    """Codebook editions: list, open a draft, publish, retire, diff, impact."""


@editions.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def editions_list(as_json: bool) -> None:
    """Every edition, oldest first."""
    from app.editions.service import edition_ref, list_editions

    with _write_session() as (_, session):
        refs = [edition_ref(e) for e in list_editions(session)]
    if as_json:
        _emit({"editions": refs})
        return
    for ref in refs:
        click.echo(
            f"#{ref['seq']:<4} {ref['label']:<24} {ref['status']:<10} "
            f"{ref['published_on'] or '-':<10} {ref['checksum'] or '-'}"
        )


@editions.command("open")
@click.argument("label")
@click.option("--note", default="", help="What this edition is for.")
def editions_open(label: str, note: str) -> None:
    """Open a draft edition LABEL that collects changes until it is published."""
    from app.auth.actor import cli_actor
    from app.editions.service import open_draft

    with _write_session() as (_, session):
        draft = _guard(lambda: open_draft(session, cli_actor(), label, note))
        click.echo(f"Đã mở bản nháp / opened draft {draft.label} (#{draft.seq}).")


@editions.command("publish")
@click.argument("edition")
def editions_publish(edition: str) -> None:
    """Publish the draft EDITION: checked, checksummed, dated, and never changed again."""
    from app.auth.actor import cli_actor
    from app.editions.service import publish

    with _write_session() as (_, session):
        done = _guard(lambda: publish(session, cli_actor(), edition))
        click.echo(
            f"Đã công bố / published {done.label} (#{done.seq}) {done.published_on}, "
            f"checksum {done.checksum}."
        )


@editions.command("retire")
@click.argument("edition")
def editions_retire(edition: str) -> None:
    """Retire the published EDITION: still readable by name, no longer the default."""
    from app.auth.actor import cli_actor
    from app.editions.service import retire

    with _write_session() as (_, session):
        done = _guard(lambda: retire(session, cli_actor(), edition))
        click.echo(f"Đã ngừng dùng / retired {done.label} (#{done.seq}).")


@editions.command("diff")
@click.argument("a")
@click.argument("b")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV (one line per row version).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def editions_diff(a: str, b: str, as_csv: bool, as_json: bool) -> None:
    """What changed from edition A to edition B: rows added, removed and changed."""
    from app.editions.diff import TABLES, diff_csv, diff_editions
    from app.editions.service import resolve_edition

    with _write_session() as (_, session):
        result = _guard(
            lambda: diff_editions(session, resolve_edition(session, a), resolve_edition(session, b))
        )
    if as_csv:
        click.echo(diff_csv(result), nl=False)
        return
    if as_json:
        _emit(result)
        return
    click.echo(f"{result['from']['label']} → {result['to']['label']}")
    for name, _, _ in TABLES:
        counts = result["summary"][name]
        click.echo(
            f"  {name:<13} +{counts['added']} added, -{counts['removed']} removed, "
            f"~{counts['changed']} changed"
        )


@editions.command("impact")
@click.argument("a")
@click.argument("b")
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
@click.option("--json", "as_json", is_flag=True, help="Print the whole answer as JSON.")
def editions_impact(a: str, b: str, file: Any, as_json: bool) -> None:
    """Which designations in FILE decode differently under B than under A.

    FILE is CSV with a header naming `text` and optionally `date` and `id` ('-' for stdin).
    """
    import csv

    from app.editions.impact import Item, impact

    reader = csv.DictReader(file)
    if "text" not in (reader.fieldnames or []):
        raise click.UsageError("FILE needs a CSV header with a `text` column")
    items = [Item(r["text"] or "", r.get("date") or None, r.get("id") or None) for r in reader]
    with _write_session() as (context, session):
        result = _guard(lambda: impact(context, session, a, b, items))
    if as_json:
        _emit(result)
        return
    click.echo(
        f"{result['from']['label']} → {result['to']['label']}: "
        f"{result['changed']} / {result['total']} thay đổi / change"
    )
    for item in result["items"]:
        if item["changed"]:
            click.echo(f"  {item['text']!r} ({item['date'] or '-'}): {item['explanation_vi']}")
            click.echo(f"      {item['explanation_en']}")


@main.group()
def keys() -> None:
    """API keys for writing over HTTP: contributor, reviewer, admin."""


@keys.command("create")
@click.option("--role", required=True, type=click.Choice(["contributor", "reviewer", "admin"]))
@click.option("--name", required=True, help="Who holds the key (a person or a system).")
def keys_create(role: str, name: str) -> None:
    """Make a key. It is printed once; only its hash is kept."""
    from app.auth.actor import cli_actor
    from app.auth.service import create_key
    from app.db.models import Role

    with _write_session() as (_, session):
        key, secret = _guard(lambda: create_key(session, cli_actor(), Role(role), name))
        click.echo(secret)
        click.echo(
            f"Khóa / key #{key.id} ({key.role}) cho / for {key.name}. Lưu lại ngay: khóa chỉ "
            "hiện một lần / store it now: it is shown only once.",
            err=True,
        )


@keys.command("list")
def keys_list() -> None:
    """Every key (never its secret): id, prefix, role, holder, revoked or not."""
    from app.auth.service import key_json, list_keys

    with _write_session() as (_, session):
        rows = [key_json(k) for k in list_keys(session)]
    for k in rows:
        state = f"revoked {k['revoked_at']}" if k["revoked_at"] else "active"
        click.echo(f"#{k['id']:<4} {k['prefix']}…  {k['role']:<11} {k['name']}  ({state})")


@keys.command("revoke")
@click.argument("key_id", type=int)
def keys_revoke(key_id: int) -> None:
    """Revoke key KEY_ID: it stops working at once."""
    from app.auth.actor import cli_actor
    from app.auth.service import revoke_key

    with _write_session() as (_, session):
        key = _guard(lambda: revoke_key(session, cli_actor(), key_id))
        click.echo(f"Đã thu hồi / revoked key #{key.id} ({key.name}).")


@main.command("batch")
@click.argument(
    "input_path", metavar="INPUT", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The decoded list: same kind as INPUT (CSV or XLSX), every column kept.",
)
@click.option("--column", default=None, help="Designation column: header or 1-based number.")
@click.option("--date-column", default=None, help="Date-of-death column: header or number.")
@click.option("--edition", default=None, help="Edition label or number (default: latest).")
@click.option(
    "--workers",
    type=click.IntRange(0, 64),
    default=0,
    help="Worker processes (default 0: both cores for large files, one for small).",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar with rows/s and ETA (default: when stderr is a terminal).",
)
def batch_cmd(
    input_path: Path,
    output: Path,
    column: str | None,
    date_column: str | None,
    edition: str | None,
    workers: int,
    progress: bool | None,
) -> None:
    """Decode a martyr list (CSV or XLSX) into OUTPUT, adding the decode columns.

    Columns are found from common headers ("Đơn vị", "Đơn vị khi hy sinh",
    "Ngày hy sinh", ...) unless named. Ends with counts per status and the most
    frequent unresolved codes.
    """
    from app.batch.report import ProgressLine, summary_text
    from app.batch.service import decode_table
    from app.batch.tables import sniff_kind

    kind = _guard(lambda: sniff_kind(input_path))
    if output.suffix.lower() in (".csv", ".xlsx") and output.suffix.lower() != f".{kind}":
        raise click.UsageError(
            f"INPUT is {kind.upper()}; the output keeps that kind: name it *.{kind} / "
            f"tệp đầu vào là {kind.upper()}, tệp kết quả cũng vậy: đặt tên *.{kind}"
        )
    collect_rarely()  # this process decodes the list, or reads and writes it, then exits
    context = Context.from_settings(_settings())
    show = sys.stderr.isatty() if progress is None else progress
    bar = ProgressLine() if show else None
    try:
        _guard(context.ensure_ready)
        summary = _guard(
            lambda: decode_table(
                context,
                input_path,
                output,
                column=column,
                date_column=date_column,
                edition=edition,
                workers=workers,
                progress=bar,
            )
        )
    finally:
        if bar is not None:
            bar.close()
        context.close()
    click.echo(summary_text(summary))


@main.group("export")
def export_group() -> None:
    """Exports for researchers."""


@export_group.command("sqlite")
@click.argument("edition")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace the file already at PATH.")
def export_sqlite_cmd(edition: str, path: Path, force: bool) -> None:
    """Write EDITION (label or number) to a standalone SQLite file with full-text search.

    It opens in Datasette (`datasette PATH`) or any SQLite tool; see the README.
    """
    from app.editions.service import resolve_edition
    from app.research.export import export_sqlite

    if path.exists() and not force:
        raise click.ClickException(
            f"{path} đã có / already exists; dùng / use --force để thay / to replace it"
        )
    if not path.parent.is_dir():
        raise click.ClickException(f"không có thư mục / no such folder: {path.parent}")
    context = Context.from_settings(_settings())
    try:
        _guard(context.ensure_ready)
        with context.session() as session:
            chosen = _guard(lambda: resolve_edition(session, edition))
            done = export_sqlite(session, chosen, path)
    finally:
        context.close()
    click.echo(
        f"Đã xuất ấn bản / exported edition {chosen.label} (#{chosen.seq}): {done.units} units, "
        f"{done.designations} designations, {done.parent_links} parent links, "
        f"{done.areas} areas, {done.sources} sources → {path}"
    )


if __name__ == "__main__":  # pragma: no cover
    main()
