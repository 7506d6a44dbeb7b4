"""The `phienhieu` command: serve, parse, decode, and database / codebook maintenance."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from app.context import Context
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
    app = create_app(settings, context=context)
    uvicorn.run(app, host=host or settings.host, port=port or settings.port, log_level="info")


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
def codebook_import(path: Path | None, sample: bool, label: str | None, draft: bool) -> None:
    """Validate the bundle at PATH and load it as a new edition, atomically."""
    from codebook.bundle import SAMPLE_BUNDLE, read_bundle
    from codebook.store import load_bundle

    if (path is None) == (not sample):
        raise click.UsageError("give a bundle PATH or --sample (one of them)")
    context = Context.from_settings(_settings())
    try:
        _guard(context.ensure_ready)
        bundle = _guard(lambda: read_bundle(path or SAMPLE_BUNDLE, label=label))
        with context.session() as session:
            outcome = _guard(lambda: load_bundle(session, bundle, publish=not draft))
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
    finally:
        context.close()


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
