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


if __name__ == "__main__":  # pragma: no cover
    main()
