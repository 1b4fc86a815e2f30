"""`tracker alerts`: the watch lists' alerts, mailed within the run, exactly once."""

from __future__ import annotations

import os

import click

from tracker.cli.base import State, cli, utc_now
from tracker.cli.render import FORMATS, print_plain_rows


def send_alert_mail(state: State, *, send: bool) -> bool:
    """Build every watching subscriber's alerts; mail them with ``send`` (else print what would
    go). True when none failed. A subscriber whose watch list names an unknown entity fails
    alone, with the reason.

    Raises:
        click.ClickException: no subscriber has a watch list.
        ConfigError: ``send`` without the SMTP settings.
    """
    from tracker.alerts.build import Batch, build_alerts, render_text
    from tracker.alerts.send import AlertOutcome, send_alerts, write_record
    from tracker.digest.journal import SendJournal
    from tracker.digest.mail import SmtpSettings
    from tracker.errors import QueryError
    from tracker.store.locks import exclusive, lock_path

    config = state.config()
    watching = [s for s in config.digest.subscribers if s.watch]
    if not watching:
        raise click.ClickException(
            f'no subscriber in {config.path} has a watch list; add watch = ["entity:smic"] '
            "to a [[digest.subscribers]] table"
        )
    smtp = SmtpSettings.from_env(os.environ) if send else None
    store = state.store() if send else state.store(readonly=True)
    journal = SendJournal(state.db_path.with_name(state.db_path.name + ".alerts-journal"))
    if send:
        # Sends a busy database could not take last time are recorded first; while they cannot
        # be, nothing is sent (it could be sent twice).
        left = journal.replay(lambda record: write_record(store, record))
        if left:
            raise click.ClickException(
                f"{left} earlier alert send(s) are not yet recorded (the database is busy or "
                "full); nothing was sent, so nothing goes twice. Run again when it is free"
            )
    tagger = state.tagger(config)
    now = utc_now()
    batches: list[Batch] = []
    failed: list[AlertOutcome] = []
    for sub in watching:
        try:
            batches.append(
                build_alerts(store, sub, now, expand=tagger.lookup, covers=tagger.covers)
            )
        except QueryError as exc:
            failed.append(AlertOutcome(sub.email, "failed", error=f"{config.path}: {exc}"))
    if smtp is None:
        for batch in batches:
            email = batch.subscriber.email
            if batch.baseline:
                click.echo(f"{email}: first run: its marks would be set, nothing sent")
            elif not batch.alerts:
                click.echo(f"{email}: nothing new")
            else:
                click.echo(f"{email}: would send {len(batch.alerts)} alert(s): {batch.subject}")
                if not state.quiet:
                    click.echo(render_text(batch))
        for outcome in failed:
            click.echo(f"{outcome.email}: failed: {outcome.error}", err=True)
        return not failed
    with exclusive(lock_path(state.db_path, "alerts"), "an alert send"):
        outcomes = failed + send_alerts(
            store, batches, smtp, config.digest, now=now, journal=journal
        )
    for o in outcomes:
        if o.status == "failed":
            click.echo(f"{o.email}: failed: {o.error}", err=True)
        elif not state.quiet:
            what = {"sent": f"sent {o.alerts} alert(s): {o.subject}", "nothing": "nothing new",
                    "baseline": "first run: marks set, nothing sent"}[o.status]  # fmt: skip
            click.echo(f"{o.email}: {what}")
    return all(o.status != "failed" for o in outcomes)


@cli.group(invoke_without_command=True)
@click.option("--send", is_flag=True, help="Mail the alerts (else show what would go out).")
@click.option("--dry-run", is_flag=True, help="Show what would go out (the default).")
@click.pass_context
def alerts(ctx: click.Context, send: bool, dry_run: bool) -> None:
    """Alerts from each subscriber's watch list: list events about a watched entity, official
    documents and articles matching a watched query, since its last alert run.

    A subscriber watches with watch = ["entity:smic", "policy:entity-list", "company:nvidia
    chip:h200"] in its [[digest.subscribers]] table (articles need alert_relevance, 0.5 by
    default; list events and official documents always alert). One message per recipient per
    run, each alert sent once; the first run only sets the marks. tracker run sends alerts
    after the fetch, before the digest.

    \b
    Examples:
      tracker alerts                 # what would go out now
      tracker alerts --send
      tracker alerts list --since 7d
    """
    if ctx.invoked_subcommand is not None:
        return
    if send and dry_run:
        raise click.UsageError("--send and --dry-run exclude each other")
    if not send_alert_mail(ctx.obj, send=send):
        raise SystemExit(1)


@alerts.command(name="list")
@click.option("--since", default="7d", show_default=True, metavar="WHEN")
@click.option(
    "--format", "-f", "fmt", type=click.Choice(FORMATS), default="table", show_default=True
)
@click.pass_obj
def alerts_list(state: State, since: str, fmt: str) -> None:
    """Alerts sent, newest first: when, to whom, the message's subject and each alert.

    \b
    Example:
      tracker alerts list --since 30d --format csv
    """
    from tracker.cli.tables import Column
    from tracker.search.query import parse_when
    from tracker.store.alerts import alerts_sent

    rows = alerts_sent(state.store(readonly=True), parse_when(since, utc_now()))
    for row in rows:
        row["sent_at"] = (row["sent_at"] or "")[:16].replace("T", " ")
    columns = [
        Column("sent_at", header="sent"),
        Column("email"),
        Column("title", fit="wrap", min_width=20),
        Column("subject", fit="wrap", min_width=20, drop=1),
        Column("key", drop=2),
    ]
    print_plain_rows(rows, fmt, columns, empty="No alerts sent in that time.")
