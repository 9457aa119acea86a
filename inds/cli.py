"""`inds`: run the stack, migrate databases, and look things up."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from inds.paths import SERVICES

app = typer.Typer(
    help="The INDS platform: registry, funding and indicators behind one gateway.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
app.add_typer(db_app, name="db")
console = Console()


def _data_dir() -> Path:
    return Path(os.environ.get("INDS_DATA_DIR", ".inds"))


@app.command()
def up(
    demo: Annotated[
        bool, typer.Option(help="Create one demo client per role and a small demo registry.")
    ] = False,
    port: Annotated[int, typer.Option(envvar="INDS_GATEWAY_PORT", help="Gateway port.")] = 8000,
    host: Annotated[
        str, typer.Option(envvar="INDS_GATEWAY_HOST", help="Gateway address.")
    ] = "127.0.0.1",
    data_dir: Annotated[
        Path,
        typer.Option(envvar="INDS_DATA_DIR", help="Where the embedded database and logs live."),
    ] = Path(".inds"),
) -> None:
    """Start the database (embedded unless INDS_DATABASE_URL is set), run migrations, start the
    three services and the gateway, and stop everything on Ctrl-C."""
    from inds.stack import DEMO_CLIENTS, Stack, StackOptions

    options = StackOptions(
        data_dir=data_dir,
        gateway_port=port,
        host=host,
        database_url=os.environ.get("INDS_DATABASE_URL"),
        demo=demo,
        environment=os.environ.get("INDS_ENVIRONMENT", "development"),
        admin_secret=os.environ.get("INDS_BOOTSTRAP_ADMIN_SECRET"),
    )
    stack = Stack(options)
    stopping = False

    def request_stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    with console.status("Starting database, migrations, services and gateway..."):
        try:
            stack.start()
        except (RuntimeError, OSError) as exc:
            console.print(f"[red]Could not start:[/red] {exc}")
            raise typer.Exit(1) from exc

    gateway = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"  # noqa: S104
    if demo:
        from inds.demo import load as load_demo
        from inds.demo_funding import load as load_funding_demo

        assert stack.server_url is not None
        try:
            with console.status("Loading the demo registry..."):
                console.print(load_demo(gateway, stack.credentials["admin"], stack.server_url))
            with console.status("Loading the demo funding picture..."):
                console.print(load_funding_demo(gateway, stack.credentials))
        except BaseException:
            # Whatever stopped the demo (an error, Ctrl-C), nothing is left running.
            stack.stop()
            raise
    console.print(f"\n[bold green]INDS is running[/bold green] at {gateway}")
    console.print(f"  API docs:  {gateway}/docs")
    console.print(f"  Health:    {gateway}/health")
    console.print(f"  Logs:      {stack.data_dir / 'logs'}")
    if stack.embedded is not None:
        console.print(f"  Database:  {stack.server_url}")
    if options.environment != "production":
        console.print(f"\n  admin client secret: [bold]{stack.credentials['admin']}[/bold]")
        if demo:
            console.print("  demo clients (client_id  secret):")
            for client in DEMO_CLIENTS:
                console.print(
                    f"    {client['client_id']:<24} {stack.credentials[client['client_id']]}"
                )
        console.print("\n  Get a token:")
        console.print(
            f"    curl -s -X POST {gateway}/auth/token -u admin:{stack.credentials['admin']} "
            "-d grant_type=client_credentials",
            soft_wrap=True,
        )
    console.print("\nPress Ctrl-C to stop.\n")

    try:
        while not stopping:
            for event in stack.supervise():
                console.print(f"[yellow]{event}[/yellow]")
            time.sleep(0.5)
    finally:
        console.print("Stopping...")
        stack.stop()
        console.print("Stopped.")


@contextmanager
def _database_server() -> Iterator[str | None]:
    """INDS_DATABASE_URL, or the embedded server in INDS_DATA_DIR (started for the
    occasion and stopped after, unless it was already running)."""
    from inds.embedded_db import EmbeddedPostgres

    configured = os.environ.get("INDS_DATABASE_URL")
    if configured:
        yield configured
        return
    embedded = EmbeddedPostgres(_data_dir() / "pg")
    already_running = embedded.url() is not None
    url = embedded.start()
    try:
        yield url
    finally:
        if not already_running:
            embedded.stop()


@app.command()
def migrate(
    services: Annotated[
        list[str] | None, typer.Argument(help="Services to migrate (default: all).")
    ] = None,
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
) -> None:
    """Run the Alembic migrations of each service's database.

    Uses INDS_<SERVICE>_DATABASE_URL or INDS_DATABASE_URL; otherwise the embedded database in
    INDS_DATA_DIR (started for the purpose if it is not running)."""
    from inds import migrate as migrations

    chosen = services or list(SERVICES)
    unknown = set(chosen) - set(SERVICES)
    if unknown:
        raise typer.BadParameter(f"unknown services: {', '.join(sorted(unknown))}")
    own_urls = {s: os.environ.get(f"INDS_{s.upper()}_DATABASE_URL") for s in chosen}
    if all(own_urls.values()):
        for service in chosen:
            migrations.upgrade(service, own_urls[service], revision)  # type: ignore[arg-type]
            console.print(f"{service}: at {revision}")
        return
    with _database_server() as server_url:
        assert server_url is not None
        asyncio.run(migrations.ensure_databases(server_url, {s: s for s in chosen}))
        defaults = migrations.service_database_urls(server_url)
        for service in chosen:
            migrations.upgrade(service, own_urls[service] or defaults[service], revision)
            console.print(f"{service}: at {revision}")


@app.command()
def revision(
    service: Annotated[str, typer.Argument(help="The service whose models changed.")],
    message: Annotated[str, typer.Option("-m", "--message", help="What the migration does.")],
) -> None:
    """Write a new migration from the difference between a service's models and its
    migrated database (the embedded one unless INDS_DATABASE_URL is set)."""
    from alembic import command

    from inds import migrate as migrations

    with _database_server() as server_url:
        assert server_url is not None
        asyncio.run(migrations.ensure_databases(server_url, {service: service}))
        url = migrations.service_database_urls(server_url)[service]
        migrations.upgrade(service, url)
        command.revision(
            migrations.alembic_config(service, url),
            message=message,
            autogenerate=True,
            rev_id=migrations.next_revision_id(service),
        )


@app.command()
def dictionary() -> None:
    """Write docs/data-dictionary.md from the code (the registry's fields, their values,
    which are personal)."""
    from inds.dictionary import render
    from inds.paths import REPO_ROOT

    target = REPO_ROOT / "docs" / "data-dictionary.md"
    target.write_text(render(), encoding="utf-8")
    console.print(f"written {target}")


@app.command("access-matrix")
def access_matrix() -> None:
    """Write docs/access.md from the access table (which roles may call each operation)."""
    from inds.paths import REPO_ROOT
    from services.gateway.access.page import render

    target = REPO_ROOT / "docs" / "access.md"
    target.write_text(render(), encoding="utf-8")
    console.print(f"written {target}")


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV or .xlsx")],
    mode: Annotated[
        str, typer.Option(help="all_or_nothing (default) or valid_only")
    ] = "all_or_nothing",
    url: Annotated[
        str | None,
        typer.Option(
            help="Gateway URL (default: INDS_GATEWAY_URL, else the address of the stack "
            "`inds up` runs from INDS_DATA_DIR)."
        ),
    ] = None,
    errors: Annotated[
        Path | None, typer.Option(help="Where to save errors.csv when rows are refused.")
    ] = None,
) -> None:
    """Import households from a file into the running stack, with a progress bar.

    Uses INDS_CLIENT_ID / INDS_CLIENT_SECRET (a data manager), or the development admin of
    the stack in INDS_DATA_DIR (default ./.inds)."""
    from inds.client import (
        IMPORTS,
        authenticated_client,
        credentials,
        gateway_url,
        import_file,
    )

    if mode not in ("all_or_nothing", "valid_only"):
        raise typer.BadParameter("mode is all_or_nothing or valid_only")
    with authenticated_client(gateway_url(url, _data_dir()), *credentials(_data_dir())) as client:
        job = import_file(client, file, mode, console)
        console.print(job.get("message") or job["status"])
        if job["error_count"]:
            target = errors or file.with_suffix(".errors.csv")
            target.write_bytes(client.get(f"{IMPORTS}/{job['id']}/errors.csv").content)
            console.print(f"{job['error_count']} problem(s) listed in {target}")
    if job["status"] != "done":
        raise typer.Exit(1)


@app.command()
def seed(
    households: Annotated[int, typer.Option(help="How many households.")] = 1000,
    seed_value: Annotated[int, typer.Option("--seed", help="Same seed, same registry.")] = 1,
    duplicate_rate: Annotated[
        float, typer.Option(help="Share of households re-registering someone (planted).")
    ] = 0.01,
    out: Annotated[
        Path | None, typer.Option(help="Write a file: .csv (import format) or .jsonl.")
    ] = None,
    api: Annotated[
        str | None,
        typer.Option(
            help="Import into the stack at this URL (with neither --out nor --api: "
            "INDS_GATEWAY_URL, if set)."
        ),
    ] = None,
) -> None:
    """Generate a realistic synthetic Djiboutian registry, deterministic for a seed, with
    planted duplicates listed beside it (<file>.duplicates.csv)."""
    import tempfile

    from inds.synthetic.files import write_csv, write_duplicates, write_jsonl
    from inds.synthetic.generator import RegistryGenerator

    if api is None and out is None:
        api = os.environ.get("INDS_GATEWAY_URL") or None
    if (out is None) == (api is None):
        raise typer.BadParameter("give one of --out FILE or --api URL (or set INDS_GATEWAY_URL)")
    generator = RegistryGenerator(seed=seed_value, duplicate_rate=duplicate_rate)
    target = out or Path(tempfile.mkdtemp(prefix="inds-seed-")) / f"registry-{seed_value}.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    writer = write_jsonl if target.suffix == ".jsonl" else write_csv
    count, rows = writer(target, generator.households(households))
    duplicates = target.with_name(target.stem + ".duplicates.csv")
    write_duplicates(duplicates, generator.planted, imported=writer is write_csv)
    console.print(
        f"{count} households, {rows} rows, {len(generator.planted)} planted duplicates "
        f"({duplicates})"
    )
    if api is not None:
        from inds.client import authenticated_client, credentials, import_file

        with authenticated_client(api.rstrip("/"), *credentials(_data_dir())) as client:
            job = import_file(client, target, "valid_only", console)
        console.print(job.get("message") or job["status"])
        if job["status"] != "done":
            raise typer.Exit(1)
    else:
        console.print(f"written to {target}")


@app.command()
def bench(
    scenarios: Annotated[
        list[str] | None, typer.Argument(help="Scenarios of bench/ to run (default: all).")
    ] = None,
    households: Annotated[
        int | None, typer.Option(help="Size of the seeded registry (default 85000).")
    ] = None,
    seconds: Annotated[float | None, typer.Option(help="Length of each load (default 10).")] = None,
    smoke: Annotated[bool, typer.Option(help="Tiny sizes, seconds: what CI runs.")] = False,
    out: Annotated[Path | None, typer.Option(help="Default: bench/results.json.")] = None,
) -> None:
    """Run the benchmarks on a throwaway stack and a freshly seeded synthetic registry, each
    figure beside its anchor: one table, and bench/results.json with the machine's
    description (`python -m bench` in a checkout)."""
    import subprocess

    from inds.paths import REPO_ROOT

    if not (REPO_ROOT / "bench" / "runner.py").is_file():
        console.print(
            f"[red]No bench/ folder in {REPO_ROOT}:[/red] benchmarks run from a checkout."
        )
        raise typer.Exit(1)
    command = [sys.executable, "-m", "bench", *(scenarios or [])]
    if households is not None:
        command += ["--households", str(households)]
    if seconds is not None:
        command += ["--seconds", str(seconds)]
    if out is not None:
        command += ["--out", str(out.resolve())]
    if smoke:
        command.append("--smoke")
    raise typer.Exit(subprocess.call(command, cwd=REPO_ROOT))  # noqa: S603 (our own runner)


@db_app.command("url")
def db_url(
    service: Annotated[
        str | None, typer.Argument(help="A service's database instead of the server's.")
    ] = None,
) -> None:
    """Print the URL of the running embedded database."""
    from inds.embedded_db import EmbeddedPostgres

    url = EmbeddedPostgres(_data_dir() / "pg").url(service or "postgres")
    if url is None:
        print(f"no embedded database runs in {_data_dir()}", file=sys.stderr)
        raise typer.Exit(1)
    print(url)


if __name__ == "__main__":
    app()
