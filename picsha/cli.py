"""The `picsha` command (Typer + Rich)."""

import json
import os
import signal
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, get_args

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from picsha.client import CliError, Exit, PicshaClient, resolve_target
from shared.manifest import Kind, Metadata, Status

app = typer.Typer(help="Picsha: upload anything, serve any size of it.", no_args_is_help=True)
console = Console(stderr=True)
out = Console()  # results on stdout, progress and messages on stderr

ServerOpt = Annotated[
    str | None,
    typer.Option("--server", "-s", help="Picsha server URL (env PICSHA_URL)", show_default=False),
]
KeyOpt = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        help="x-api-key (env PICSHA_API_KEY; else PICSHA_DATA_DIR/dev-api-key)",
        show_default=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable JSON on stdout")]
ConcurrencyOpt = Annotated[int, typer.Option("--concurrency", "-c", min=1, max=64)]
WaitOpt = Annotated[bool, typer.Option(help="follow each asset until ready or failed")]


def clean_errors(command: Callable) -> Callable:
    """One line on stderr and a meaningful exit code instead of a traceback."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except CliError as exc:
            console.print(f"[red]error:[/] {escape(exc.message)}", highlight=False, soft_wrap=True)
            raise typer.Exit(int(exc.code)) from None
        except KeyboardInterrupt:
            console.print("interrupted")
            raise typer.Exit(130) from None

    return wrapper


def _print_json(value: object) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(help="Celery worker processes")] = os.cpu_count() or 2,
    data_dir: Annotated[
        Path | None, typer.Option(help="data folder (default: PICSHA_DATA_DIR or ./picsha-data)")
    ] = None,
) -> None:
    """Run the ingest API, delivery and a Celery worker on embedded defaults."""
    from shared.libvips import describe, use_bundled
    from shared.memory import reexec_with_jemalloc
    from shared.settings import Settings

    reexec_with_jemalloc()  # flat RSS under load; the worker inherits it (shared/memory.py)
    # Delivery here runs on the bundled libvips 8.18; the worker (its own process) keeps the
    # system one with every ingest loader (shared/libvips.py).
    use_bundled()

    # uvicorn re-raises SIGTERM after its graceful shutdown, which would skip the
    # `finally` below and orphan the worker; turning it into SystemExit keeps cleanup.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    settings = Settings(data_dir=data_dir) if data_dir else Settings()
    settings.data_dir = settings.data_dir.resolve()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # Before anything imports prometheus_client (the app below does): the API and every
    # worker process then write samples to files there, and /metrics adds them up.
    _prepare_metrics_dir(settings.data_dir / "metrics")

    import uvicorn

    from ingest_worker.http.auth import ensure_api_keys
    from picsha.app import create_app
    from picsha.worker import SupervisedWorker, start_worker
    from shared.logging import configure_logging

    configure_logging(settings.log_level.upper())
    dev_key = ensure_api_keys(settings)
    worker = SupervisedWorker(lambda: start_worker(settings, workers)).start()
    try:
        web = create_app(settings)
        url = f"http://{_reachable(host)}:{port}"
        # For the person at the terminal, on stdout: stderr carries only JSON log lines.
        out.print(f"[bold]Picsha[/] on {escape(url)}  data: {settings.data_dir}")
        out.print(f"console: {url}/console", markup=False, soft_wrap=True)
        # For the CLI in another shell: paste it there.
        out.print(f"export PICSHA_URL={url}", markup=False, highlight=False, soft_wrap=True)
        out.print(f"storage={settings.storage} broker={settings.broker_url or 'embedded'}")
        out.print(f"delivery on {describe()}")
        if dev_key:
            out.print(f"dev API key (x-api-key): [bold]{dev_key}[/]")
        # Our JSON handler formats uvicorn's lines; the middleware writes the access log.
        uvicorn.run(web, host=host, port=port, log_config=None, access_log=False)
    finally:
        worker.stop()


def _reachable(host: str) -> str:
    """The host part of a URL that reaches a server bound to `host` from this machine."""
    if host in ("0.0.0.0", "::", ""):  # every interface: loopback is one of them
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _prepare_metrics_dir(path: Path) -> None:
    # Not through shared.metrics: importing it would import prometheus_client too early.
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):  # a previous run's counts would be replayed
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)


@app.command()
def version() -> None:
    """Print the versions of Picsha and its imaging stack."""
    import pyvips

    vips = ".".join(str(pyvips.version(i)) for i in range(3))
    typer.echo(f"picsha 0.1.0 (libvips {vips})")


@app.command()
@clean_errors
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="files or folders", show_default=False)],
    recursive: Annotated[
        bool, typer.Option("--recursive", "-r", help="descend into folders")
    ] = False,
    pre_render_sizes: Annotated[
        bool, typer.Option("--pre-render-sizes", help="also make optimized.webp and thumb.webp")
    ] = False,
    presigned: Annotated[
        bool,
        typer.Option(
            "--presigned",
            help="send every file straight to the bucket (POST /v1/assets/presigned; S3 "
            "mode), as is done anyway for files past the body limit the server states",
        ),
    ] = False,
    concurrency: ConcurrencyOpt = 4,
    wait: WaitOpt = True,
    server: ServerOpt = None,
    api_key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Upload files to a Picsha server and follow them to ready / failed.

    Exit 0 when every file is ready, 1 when any failed, 2 for a bad path, 3 when no server
    answers, 4 when the server refuses the key.
    """
    from picsha import uploader

    files = uploader.collect(paths, recursive)
    with PicshaClient(resolve_target(server, api_key), pool=concurrency) as client:
        health = client.ping()  # one clear line now, not one per file, when nothing answers
        presigned_from = uploader.presigned_above(health, presigned)
        jobs = uploader.jobs(client, files, pre_render_sizes, presigned_from)
        _run_jobs("ingest", client, jobs, concurrency, wait, as_json)


_KINDS, _STATUSES = get_args(Kind), get_args(Status)


@app.command()
@clean_errors
def reprocess(
    asset_ids: Annotated[
        list[str] | None, typer.Argument(help="asset ids (or select with the options)")
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="every asset the filters pass")] = False,
    kind: Annotated[
        str | None,
        typer.Option(help="only this kind: image, complex_image, vector, document, video, audio"),
    ] = None,
    status_: Annotated[
        str | None, typer.Option("--status", help="only assets in this status, e.g. failed")
    ] = None,
    concurrency: ConcurrencyOpt = 4,
    wait: WaitOpt = True,
    server: ServerOpt = None,
    api_key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run the pipeline again on assets: to retry failed ones, or to give older assets what a
    newer Picsha derives (e.g. `--kind vector` for the transparent proxy.png).

    Exit 0 when every asset ends ready, 1 when any failed, 2 without ids or a selection.
    """
    from picsha.batch import Job

    if not asset_ids and not (every or kind or status_):
        raise CliError(Exit.USAGE, "name asset ids, or select with --all, --kind or --status")
    for value, allowed in ((kind, _KINDS), (status_, _STATUSES)):
        if value is not None and value not in allowed:
            raise CliError(Exit.USAGE, f"{value!r} is not one of {', '.join(allowed)}")
    with PicshaClient(resolve_target(server, api_key), pool=concurrency) as client:
        if asset_ids:
            chosen = [(asset_id, asset_id) for asset_id in asset_ids]
        else:
            chosen = [
                (m["id"], (m.get("source") or {}).get("filename") or m["id"])
                for m in client.assets()
                if (kind is None or m.get("kind") == kind)
                and (status_ is None or m.get("status") == status_)
            ]

        def job(asset_id: str, name: str) -> Job:
            return Job(name, lambda: client.reprocess(asset_id)["id"])

        jobs = [job(asset_id, name) for asset_id, name in chosen]
        if not jobs and as_json:
            _print_json([])
        elif not jobs:
            console.print("no assets match")
        else:
            _run_jobs("reprocess", client, jobs, concurrency, wait, as_json)


def _run_jobs(
    title: str, client: PicshaClient, jobs: list, concurrency: int, wait: bool, as_json: bool
) -> None:
    """Run the jobs with a progress bar, then a table (or JSON); exit 1 if any failed."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from picsha import batch

    counts = {"ready": 0, "failed": 0, "error": 0, "queued": 0}
    progress = Progress(
        TextColumn(f"[bold]{title}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.description}"), TimeElapsedColumn(),
        console=console, disable=as_json, transient=False,
    )  # fmt: skip
    with progress:
        task = progress.add_task("", total=len(jobs))

        def done(outcome: batch.Outcome) -> None:
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
            summary = " ".join(f"{k} {v}" for k, v in counts.items() if v)
            progress.update(task, advance=1, description=summary)

        outcomes = batch.settle(client, jobs, concurrency, wait, done)
    if as_json:
        _print_json([o.as_dict() for o in outcomes])
    else:
        out.print(_outcome_table(f"Picsha {title}", outcomes))
    if any(o.status in ("failed", "error") for o in outcomes):
        raise typer.Exit(int(Exit.FAILED))


def _outcome_table(title: str, outcomes: list) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("file", "id", "status", "error", "s"):
        table.add_column(column, justify="right" if column == "s" else "left", overflow="fold")
    colours = {"ready": "green", "failed": "red", "error": "red", "queued": "yellow"}
    for o in outcomes:
        error = f"{o.code}: {o.message}" if o.code else ""
        status = f"[{colours.get(o.status, 'white')}]{o.status}[/]"
        # Filenames and messages are data, never Rich markup.
        table.add_row(_plain(o.path), o.id or "-", status, _plain(error), f"{o.seconds:.1f}")
    return table


def _plain(text: str):
    from rich.text import Text

    return Text(text)


@app.command()
@clean_errors
def status(
    asset_id: Annotated[str, typer.Argument(help="asset id", show_default=False)],
    wait: Annotated[bool, typer.Option(help="wait until ready or failed")] = False,
    server: ServerOpt = None,
    api_key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show an asset's status and main facts. Exit 1 when it failed, 5 when unknown."""
    with PicshaClient(resolve_target(server, api_key)) as client:
        manifest = client.wait(asset_id) if wait else client.manifest(asset_id)
    if as_json:
        _print_json(manifest)
    else:
        out.print(_manifest_table(manifest))
    if manifest.get("status") == "failed":
        raise typer.Exit(int(Exit.FAILED))


def _manifest_table(m: dict) -> Table:
    table = Table(show_header=False, title=f"asset {m.get('id')}", title_justify="left")
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    source, image = m.get("source") or {}, m.get("image") or {}
    meta, error = m.get("metadata") or {}, m.get("error") or {}
    rows = [
        ("status", m.get("status")),
        ("error", f"{error.get('stage')}/{error.get('code')}: {error.get('message')}"
         if error else None),
        ("file", source.get("filename")),
        ("type", f"{source.get('mime')} ({m.get('kind')})"),
        ("size", f"{source.get('size')} bytes"),
        ("pixels", f"{image.get('width')}x{image.get('height')}" if image else None),
        ("camera", Metadata.model_validate(meta).camera_name()),
        ("taken", meta.get("taken_at")),
        ("derivatives", ", ".join(m.get("derivatives") or {}) or None),
        ("updated", m.get("updated_at")),
    ]  # fmt: skip
    for name, value in rows:
        if value:
            table.add_row(name, _plain(str(value)))
    return table


@app.command()
@clean_errors
def sign(
    url: Annotated[
        str, typer.Argument(help="URL or path: /render/ID?wd=500 or /thumbor/unsafe/300x200/ID")
    ],
    key: Annotated[
        str | None,
        typer.Option(help="signing key", envvar="PICSHA_SIGNING_KEY", show_default=False),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Sign a delivery URL with PICSHA_SIGNING_KEY: a /render one gets `sig` (HMAC-SHA256
    over path + canonical query), a /thumbor one its signature in place of `unsafe`."""
    from shared.signing import sign_url

    if not key:
        raise CliError(Exit.USAGE, "no signing key: set PICSHA_SIGNING_KEY or pass --key")
    try:
        signed = sign_url(key, url)
    except ValueError as exc:
        raise CliError(Exit.USAGE, str(exc)) from None
    if as_json:
        _print_json({"url": signed})
    else:
        sys.stdout.write(signed + "\n")


@app.command()
@clean_errors
def doctor(
    server: Annotated[
        str | None,
        typer.Option(
            "--server",
            "-s",
            help="smoke-test this server instead: upload, render and delete a tiny image",
            show_default=False,
        ),
    ] = None,
    api_key: KeyOpt = None,
    signing_key: Annotated[
        str | None,
        typer.Option(
            "--signing-key",
            help="the server's render-URL signing key",
            envvar="PICSHA_SIGNING_KEY",
            show_default=False,
        ),
    ] = None,
    timeout: Annotated[
        float, typer.Option(min=1, help="seconds to wait for the test image to be ready")
    ] = 120,
    as_json: JsonOpt = False,
) -> None:
    """Check this machine, or with --server a running Picsha; say how to fix what fails.

    On this machine: libvips, ExifTool, libmagic, LibreOffice, ImageMagick + Ghostscript
    (and its policy), the broker, storage, search index and AI provider.

    With --server (e.g. after a deploy): upload a tiny generated PNG, wait until it is
    ready, render it (format by magic bytes, pixel size), fetch the original back, and
    delete it again.

    Exit 0 when all pass (warnings allowed), 1 when any check fails.
    """
    from picsha.doctor import FAIL

    if server:
        from picsha import smoke

        checks = smoke.run(resolve_target(server, api_key), signing_key, timeout)
        report: dict[str, Any] = {"server": server}
        title = f"picsha doctor --server {server}"
    else:
        from picsha.doctor import environment_summary, run_checks
        from shared.settings import Settings

        settings = Settings()
        checks = run_checks(settings)
        report = {"environment": environment_summary(settings)}
        title = "picsha doctor"
    if as_json:
        _print_json(report | {"checks": [c.as_dict() for c in checks]})
    else:
        table = Table(title=_plain(title), title_justify="left")
        for column in ("check", "status", "detail", "how to fix"):
            table.add_column(column, overflow="fold")
        marks = {"ok": "[green]ok[/]", "warn": "[yellow]warn[/]", "fail": "[red]FAIL[/]"}
        for c in checks:
            mark = marks.get(c.status, f"[dim]{c.status}[/]")
            table.add_row(c.name, mark, _plain(c.detail), _plain(c.fix or ""))
        out.print(table)
        failed = sum(c.status == FAIL for c in checks)
        verdict = f"[red]FAIL[/]: {failed} of {len(checks)} failed" if failed else "[green]PASS[/]"
        out.print(verdict)
    if any(c.status == FAIL for c in checks):
        raise typer.Exit(int(Exit.FAILED))


@app.command()
def reindex(
    data_dir: Annotated[
        Path | None, typer.Option(help="data folder (default: PICSHA_DATA_DIR or ./picsha-data)")
    ] = None,
) -> None:
    """Rebuild the search index (and the newest-first listing) from the asset manifests alone."""
    from ingest_worker.stages.index import reindex as rebuild
    from shared.search import open_index
    from shared.settings import Settings
    from shared.storage import open_store

    settings = Settings(data_dir=data_dir) if data_dir else Settings()
    index = open_index(settings)
    indexed, seen = rebuild(open_store(settings), index)
    index.close()
    typer.echo(f"indexed {indexed} ready assets of {seen} ({settings.search} index)")


@app.command()
@clean_errors
def search(
    query: Annotated[str, typer.Argument(help="words, or a description of what you look for")],
    limit: Annotated[int, typer.Option(min=1, max=100, help="how many results")] = 20,
    kind: Annotated[
        str | None, typer.Option(help="image, complex_image, vector, document, video, audio")
    ] = None,
    label: Annotated[str | None, typer.Option(help="only assets with this label")] = None,
    codec: Annotated[
        str | None, typer.Option(help="videos and audio in this codec: h264, aac, mp3, ...")
    ] = None,
    min_duration: Annotated[
        float | None, typer.Option(min=0, help="videos and audio at least this long (s)")
    ] = None,
    max_duration: Annotated[
        float | None, typer.Option(min=0, help="videos and audio at most this long (s)")
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="read this data folder's index directly, without a server"),
    ] = None,
    server: ServerOpt = None,
    api_key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Search assets (keywords + embeddings) on the server, as GET /v1/search does.

    Exit 0 also when nothing matches ("No results"), 3 when no server answers, 4 when it
    refuses the key.
    """
    if kind is not None and kind not in _KINDS:
        raise CliError(Exit.USAGE, f"{kind!r} is not one of {', '.join(_KINDS)}")
    if data_dir is not None and server is not None:
        raise CliError(Exit.USAGE, "pass --data-dir (a local index) or --server, not both")
    given = dict(kind=kind, label=label, codec=codec, min_duration=min_duration,
                 max_duration=max_duration)  # fmt: skip
    filters = {k: v for k, v in given.items() if v is not None}
    if data_dir is not None:
        body = _search_local(data_dir, query, limit, filters)
    else:
        params = {"q": query, "limit": limit, **filters}
        with PicshaClient(resolve_target(server, api_key)) as client:
            body = client.search({k: v for k, v in params.items() if v is not None})
    if body.get("note"):
        console.print(_plain(body["note"]))
    if as_json:
        _print_json(body)
        return
    if not body["items"]:
        out.print(_plain(f"No results for {query!r}"))
        return
    total = body["total"]
    title = f"{total} result{'' if total == 1 else 's'} for {query!r}"
    table = Table(title=_plain(title), title_justify="left")
    table.add_column("id", no_wrap=True, min_width=21)  # copy-pasteable in one piece
    for column in ("file", "labels", "matched"):
        table.add_column(column, overflow="fold")
    # No score column: the fused rank score orders results and means nothing on its own.
    for hit in body["items"]:
        labels = ", ".join(lb.split(",")[0] for lb in hit["labels"][:3])
        table.add_row(hit["id"], _plain(hit["filename"]), _plain(labels), " ".join(hit["matched"]))
    out.print(table)


def _search_local(
    data_dir: Path, query: str, limit: int, filters: dict[str, Any]
) -> dict[str, Any]:
    """The index in a data folder, without a server: the same answer shape as /v1/search."""
    from dataclasses import asdict

    from shared.ai import CapabilityMissing, ProviderError, ProviderUnavailable, open_provider
    from shared.search import Filters, open_index
    from shared.settings import Settings

    settings = Settings(data_dir=data_dir)
    vector = model = note = None
    try:
        embedding = open_provider(settings).embed_query(query) if query.strip() else None
        if embedding is not None:
            vector, model = embedding.vector, embedding.model
    except (ProviderUnavailable, ProviderError, CapabilityMissing) as exc:
        note = f"keyword search only: {exc}"
    index = open_index(settings)
    try:
        page = index.search(query, vector, model, Filters(**filters), limit)
    finally:
        index.close()
    body = {"items": [asdict(h) for h in page.hits], "total": page.total}
    return body | ({"note": note} if note else {})


if __name__ == "__main__":
    app()
