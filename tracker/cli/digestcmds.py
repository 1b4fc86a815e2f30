"""Commands that mail: digest (preview, files, dry run, send) and run (fetch, then send)."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from tracker.cli.base import State, cli, maybe_config, utc_now
from tracker.cli.render import make_console
from tracker.errors import ConfigError, SendError

if TYPE_CHECKING:
    from tracker.config.digest import DigestSettings, Subscriber
    from tracker.config.load import Config
    from tracker.digest.send import Failed, Outcome, Prepared

PREVIEW_SENDER = "tracker@localhost"


def preview_sender() -> str:
    """The From of a digest that is shown, not sent: TRACKER_MAIL_FROM when it is set."""
    return os.environ.get("TRACKER_MAIL_FROM") or PREVIEW_SENDER


def _recipients(settings: DigestSettings, to: str | None) -> list[Subscriber]:
    from tracker.config.digest import Subscriber, valid_address

    if to is None:
        return list(settings.subscribers)
    if not valid_address(to):
        raise click.BadParameter(
            f"{to!r} is not an email address (name@example.org)", param_hint="--to"
        )
    # an address not subscribed: everything, in UTC
    return [settings.subscriber(to) or Subscriber(email=to)]


@cli.command()
@click.option("--send", is_flag=True, help="Send to every subscriber (or only --to).")
@click.option(
    "--to", "to", metavar="ADDR", help="Only this recipient (a subscriber, or any address)."
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the digest to FILE (.eml, .html or .txt) instead of sending.",
)
@click.option("--dry-run", is_flag=True, help="Print what would go to whom; send nothing.")
@click.option(
    "--since",
    metavar="WHEN",
    help="Window start (24h, 3d, a date); default: each recipient's last digest, else 24h. "
    "Items already sent are never sent again.",
)
@click.pass_obj
def digest(
    state: State,
    send: bool,
    to: str | None,
    output: Path | None,
    dry_run: bool,
    since: str | None,
) -> None:
    """The daily digest: official actions, top stories by theme, movement in tags.

    With no option, prints the plain-text digest of the first subscriber (or of
    everything, if none is configured) without sending or recording anything.
    Subscribers are [[digest.subscribers]] in tracker.toml; SMTP settings come from
    the environment only (TRACKER_SMTP_HOST, _PORT, _USER, _PASSWORD, _SECURITY,
    TRACKER_MAIL_FROM). Each recipient gets each item once: items are recorded as
    sent only after the server accepted their message.

    \b
    Examples:
      tracker digest                            # preview the first subscriber's
      tracker digest --to ana@example.org -o today.html
      tracker digest --dry-run
      tracker digest --send                     # cron: see tracker run
    """
    from tracker.config.digest import DigestSettings
    from tracker.digest.send import Failed, prepare
    from tracker.search.query import parse_when

    config = maybe_config(state)
    settings = config.digest if config else DigestSettings()
    now = utc_now()
    start = parse_when(since, now) if since else None
    if send or (to and not (output or dry_run)):
        if not send_digests(state, config, to=to, start=start, now=now):
            raise SystemExit(1)
        return
    store = state.store(readonly=True)
    tagger = state.tagger(config)
    recipients = _recipients(settings, to) or [settings.preview_subscriber()]
    if not dry_run:
        recipients = recipients[:1]
    sender = preview_sender()
    items = prepare(
        store,
        settings,
        recipients,
        now=now,
        sender=sender,
        since=start,
        expand=tagger.lookup,
        covers=tagger.covers,
    )
    if dry_run:
        for item in items:
            click.echo(_dry_line(item))
        return
    item = next(iter(items))
    if isinstance(item, Failed):
        raise click.ClickException(f"the digest for {item.email} cannot be built: {item.reason}")
    if output is None:
        click.echo(item.text, nl=False)
        return
    _write(item, output)
    if not state.quiet:
        click.echo(f"wrote {output} ({item.subject})", err=True)


def send_digests(
    state: State,
    config: Config | None,
    *,
    to: str | None = None,
    start: datetime | None = None,
    now: datetime,
) -> bool:
    """Send the digest to every subscriber (or only ``to``) and print each outcome; True when
    none failed. Earlier sends waiting in the journal are recorded first; while they cannot be,
    nothing is sent.

    Raises:
        ConfigError: no recipient, or the SMTP settings are incomplete.
        SendError: earlier sends are still unrecorded.
    """
    from tracker.config.digest import DigestSettings
    from tracker.digest.journal import SendJournal
    from tracker.digest.mail import SmtpSettings
    from tracker.digest.send import prepare, send_all, write_record
    from tracker.store.locks import exclusive, lock_path

    settings = config.digest if config else DigestSettings()
    if not (settings.subscribers or to):
        raise ConfigError("no [[digest.subscribers]] in tracker.toml; add one or use --to ADDR")
    smtp = SmtpSettings.from_env(os.environ)
    recipients = _recipients(settings, to)
    store = state.store()
    tagger = state.tagger(config)
    with exclusive(lock_path(state.db_path, "digest"), "a digest send"):
        journal = SendJournal(state.db_path.with_name(state.db_path.name + ".digest-journal"))
        left = journal.replay(lambda record: write_record(store, record))
        if left:
            raise SendError(
                f"{left} earlier digest(s) were sent but are not yet recorded (the database "
                f"is busy or full); nothing was sent this time, so nobody gets them twice. "
                f"Try again shortly ({journal.folder})"
            )
        prepared = prepare(
            store,
            settings,
            recipients,
            now=now,
            sender=smtp.sender,
            since=start,
            expand=tagger.lookup,
            covers=tagger.covers,
        )
        outcomes = send_all(store, prepared, smtp, now=now, journal=journal)
    return _report(state, outcomes)


def _dry_line(item: Prepared | Failed) -> str:
    from tracker.digest.send import Failed

    if isinstance(item, Failed):
        return f"{item.email}\tcannot be built: {item.reason}"
    d = item.digest
    what = "nothing new, no mail" if item.message is None else item.subject
    return (
        f"{item.subscriber.email}\t{len(d.official)} official\t{len(d.stories)} stories\t"
        f"{len(d.other)} other\t{what}"
    )


def _write(item: Prepared, output: Path) -> None:
    suffix = output.suffix.lower()
    if suffix == ".eml":
        if item.message is None:
            raise click.ClickException(
                "nothing new for this recipient, so no message; write .txt or .html to see why"
            )
        output.write_bytes(item.message.as_bytes())
    elif suffix in (".html", ".htm"):
        output.write_text(item.html, encoding="utf-8")
    elif suffix == ".txt":
        output.write_text(item.text, encoding="utf-8")
    else:
        raise click.BadParameter("the file must end in .eml, .html or .txt", param_hint="--output")


def _report(state: State, outcomes: list[Outcome]) -> bool:
    failed = [o for o in outcomes if o.status == "failed"]
    if not state.quiet:
        for o in outcomes:
            if o.status == "sent":
                click.echo(f"sent\t{o.email}\t{o.items} items\t{o.subject}")
            elif o.status == "skipped":
                click.echo(f"skipped\t{o.email}\tnothing new (send_empty is off)")
    for o in failed:
        click.echo(f"failed\t{o.email}\t{o.error}", err=True)
    waiting = [o for o in outcomes if o.status == "sent" and not o.recorded]
    if waiting:
        click.echo(
            f"Warning: {len(waiting)} digest(s) were sent but the database could not record them "
            "yet; they are kept in the send journal and recorded by the next run (nobody gets "
            "them twice)",
            err=True,
        )
    if failed:
        click.echo(
            f"Error: {len(failed)} of {len(outcomes)} digest(s) failed; their items go out "
            "with the next run",
            err=True,
        )
    return not failed


@cli.command()
@click.pass_context
def run(ctx: click.Context) -> None:
    """Fetch every source, then send the watch lists' alerts and the digest (for cron).

    Checks the SMTP settings before fetching, so a missing variable fails fast.
    Exits 1 if a source or a digest failed (the rest still ran).

    \b
    Example (crontab, every day at 07:00):
      0 7 * * *  tracker -q run
    """
    from tracker.cli.fetching import fetch_sources, interrupted
    from tracker.digest.mail import SmtpSettings

    state: State = ctx.obj
    config = maybe_config(state)
    mailing = bool(config and config.digest.subscribers)
    if mailing:
        SmtpSettings.from_env(os.environ)
    try:
        fetched = fetch_sources(state)  # a failed source still leaves the others' news to send
    except KeyboardInterrupt:
        interrupted()  # the user wants the run to end: no digest
    sent = True
    if config and any(s.watch for s in config.digest.subscribers):
        from tracker.cli.alertcmds import send_alert_mail

        sent = send_alert_mail(state, send=True)  # the same hour: before the digest
    if config and mailing:
        sent = send_digests(state, config, now=utc_now()) and sent
    elif not state.quiet:
        make_console(stderr=True).print(
            "No [[digest.subscribers]] in tracker.toml: fetched only.", markup=False
        )
    if fetched or not sent:
        raise SystemExit(fetched or 1)
