"""`tracker serve`: the web reader on the store (:mod:`tracker.web`)."""

from __future__ import annotations

import contextlib
import ipaddress

import click

from tracker.cli.base import State, cli, maybe_config, utc_now


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name that may resolve anywhere


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but loopback is reachable by others.")  # fmt: skip
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535),
              help="Port to listen on.")  # fmt: skip
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64),
              help="Pages served at once (each reads with its own connection).")  # fmt: skip
@click.pass_obj
def serve(state: State, host: str, port: int, threads: int) -> None:
    """Serve the store as a web page for reading: search, articles, their stories.

    Pages: /search, /article/ID, /stories, /entity/NAME, /lists, /deadlines, /trends and
    /digest; each answers JSON at its own URL (?format=json), a search also Atom
    (?format=atom) and the deadlines a calendar (?format=ics). The store is read through
    read-only connections; a `tracker fetch` may write meanwhile. Ctrl-C stops it.

    \b
    Examples:
      tracker serve                      # http://127.0.0.1:8000/
      tracker serve --port 8080
      tracker serve --host 0.0.0.0       # a team's page: put it behind a proxy with a login
      curl 'http://127.0.0.1:8000/search?q=H20&format=json' | jq '.[].title'
    """
    import uvicorn

    from tracker.cli.digestcmds import preview_sender
    from tracker.config.digest import DigestSettings
    from tracker.web.app import Reader, create_app

    state.store(readonly=True).close()  # a missing or newer database fails here, in one line
    if not is_loopback(host):
        click.echo(
            f"Warning: listening on {host}: anyone who can reach this machine can read the "
            "store; the page has no login. For a team, put it behind a proxy with auth.",
            err=True,
        )
    _check_free(host, port)
    config = maybe_config(state)
    digest = config.digest if config else DigestSettings()
    reader = Reader(state.db_path, state.tagger(config), utc_now, digest, preview_sender())
    server_config = uvicorn.Config(
        create_app(reader, threads), host=host, port=port, log_level="warning"
    )
    server = uvicorn.Server(server_config)
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"Serving {state.db_path} at http://{shown}:{port}/ (Ctrl-C stops)")
    # uvicorn shuts down first, then passes Ctrl-C on: a clean stop, not "Aborted!"
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    click.echo("Stopped.", err=True)


def _check_free(host: str, port: int) -> None:
    """Fail in one line when the port is taken (uvicorn would log a traceback-like error)."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise click.ClickException(
                f"cannot listen on {host}:{port} ({exc.strerror}); pick another --port"
            ) from None
