"""The `picsha` command (Typer + Rich)."""

import os
import signal
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(help="Picsha: upload anything, serve any size of it.", no_args_is_help=True)
console = Console(stderr=True)


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
    import uvicorn

    from ingest_worker.auth import ensure_api_keys
    from picsha.app import create_app
    from picsha.worker import start_worker, stop_worker
    from shared.settings import Settings

    # uvicorn re-raises SIGTERM after its graceful shutdown, which would skip the
    # `finally` below and orphan the worker; turning it into SystemExit keeps cleanup.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    settings = Settings(data_dir=data_dir) if data_dir else Settings()
    settings.data_dir = settings.data_dir.resolve()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    dev_key = ensure_api_keys(settings)
    worker = start_worker(settings, workers)
    try:
        web = create_app(settings)
        console.print(f"[bold]Picsha[/] on http://{host}:{port}  data: {settings.data_dir}")
        console.print(f"storage={settings.storage} broker={settings.broker_url or 'embedded'}")
        if dev_key:
            console.print(f"dev API key (x-api-key): [bold]{dev_key}[/]")
        uvicorn.run(web, host=host, port=port, log_level="info")
    finally:
        stop_worker(worker)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


@app.command()
def version() -> None:
    """Print the versions of Picsha and its imaging stack."""
    import pyvips

    vips = ".".join(str(pyvips.version(i)) for i in range(3))
    typer.echo(f"picsha 0.1.0 (libvips {vips})")


@app.command()
def reindex(
    data_dir: Annotated[
        Path | None, typer.Option(help="data folder (default: PICSHA_DATA_DIR or ./picsha-data)")
    ] = None,
) -> None:
    """Rebuild the search index from the asset manifests alone."""
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
def search(
    query: Annotated[str, typer.Argument(help="words, or a description of what you look for")],
    limit: Annotated[int, typer.Option(min=1, max=100, help="how many results")] = 20,
    kind: Annotated[str | None, typer.Option(help="image, complex_image, vector, document")] = None,
    label: Annotated[str | None, typer.Option(help="only assets with this label")] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="data folder (default: PICSHA_DATA_DIR or ./picsha-data)")
    ] = None,
) -> None:
    """Search the index (keywords + embeddings) and print a table of results."""
    from rich.console import Console as RichConsole
    from rich.table import Table as RichTable

    from shared.ai import ProviderError, ProviderUnavailable, open_provider
    from shared.search import Filters, open_index
    from shared.settings import Settings

    settings = Settings(data_dir=data_dir) if data_dir else Settings()
    vector = model = None
    try:
        embedding = open_provider(settings).embed_query(query) if query.strip() else None
        if embedding is not None:
            vector, model = embedding.vector, embedding.model
    except (ProviderUnavailable, ProviderError) as exc:
        typer.echo(f"keyword search only: {exc}", err=True)
    index = open_index(settings)
    page = index.search(query, vector, model, Filters(kind=kind, label=label), limit)
    index.close()
    table = RichTable(title=f"{page.total} results for {query!r}", title_justify="left")
    table.add_column("id", no_wrap=True, min_width=21)  # copy-pasteable in one piece
    for column in ("score", "file", "labels", "matched"):
        table.add_column(column, overflow="fold")
    for hit in page.hits:
        labels = ", ".join(lb.split(",")[0] for lb in hit.labels[:3])
        table.add_row(hit.id, f"{hit.score:.4f}", hit.filename, labels, " ".join(hit.matched))
    RichConsole().print(table)


if __name__ == "__main__":
    app()
