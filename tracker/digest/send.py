"""Preparing and sending every subscriber's digest, exactly once.

A recipient's items are recorded as sent (``digest_items``) only after the SMTP server accepted
that recipient's message, in one transaction with the send's row; with a send journal
(:mod:`tracker.digest.journal`) the record is written there first, so a database that cannot take it
at once (busy, full) loses nothing. So:

* a failure for one recipient leaves the others recorded, and that recipient's items go out in
  their next digest (their window starts at their last successful digest);
* an item already sent to a recipient is never sent to them again, whatever ``--since`` says:
  running ``--send`` twice in a row sends nothing the second time.

The one gap SMTP leaves: if the connection drops after the server took the message but before it
said so, the message counts as failed and may arrive twice. Nothing at this end can tell.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import parseaddr
from urllib.parse import quote

from tracker.config.digest import DigestSettings, Subscriber
from tracker.digest.build import Digest, Window, build_digest
from tracker.digest.journal import Record, SendJournal
from tracker.digest.mail import Connect, SmtpSettings, build_message, connect, reply_text
from tracker.digest.render import render_html, render_text, subject
from tracker.errors import QueryError, SendError
from tracker.search.query import Covers, Expand
from tracker.store import Store, iso
from tracker.store.digests import last_success, sent_items, write_send

log = logging.getLogger(__name__)


@dataclass
class Prepared:
    subscriber: Subscriber
    digest: Digest
    subject: str
    text: str
    html: str
    message: EmailMessage | None  # None: nothing new and the subscriber did not ask for empties


@dataclass
class Outcome:
    email: str
    status: str  # sent | failed | skipped (nothing new)
    subject: str = ""
    items: int = 0
    error: str | None = None
    recorded: bool = True  # False: sent, but its record waits in the journal for the next run


def unsubscribe_target(settings: DigestSettings, sender: str, email: str) -> str:
    if settings.unsubscribe:
        return settings.unsubscribe.replace("{email}", email)
    address = parseaddr(sender)[1] or sender
    return f"mailto:{address}?subject={quote('unsubscribe ' + email)}"


def prepare(
    store: Store,
    settings: DigestSettings,
    subscribers: Iterable[Subscriber],
    *,
    now: datetime,
    sender: str,
    since: datetime | None = None,
    expand: Expand | None = None,
    covers: Covers | None = None,
) -> Iterator[Prepared | Failed]:
    """Each subscriber's digest and message, built in turn (windows shared between them); a
    subscriber whose digest cannot be built gets a :class:`Failed` instead."""
    windows: dict[datetime, Window] = {}
    for sub in subscribers:
        try:
            yield _prepare_one(store, settings, sub, windows, now, sender, since, expand, covers)
        except QueryError as exc:  # entity:NAME that no list or vocabulary knows (any more)
            log.warning("digest to %s not built: its filter: %s", sub.email, exc)
            yield Failed(sub.email, f"its filter {sub.filter!r}: {exc}")
        except (ValueError, TypeError, KeyError) as exc:  # a header or template refused it
            log.warning("digest to %s not built: %r", sub.email, exc)
            yield Failed(sub.email, f"{type(exc).__name__}: {exc}")


def _prepare_one(
    store: Store,
    settings: DigestSettings,
    sub: Subscriber,
    windows: dict[datetime, Window],
    now: datetime,
    sender: str,
    since: datetime | None,
    expand: Expand | None,
    covers: Covers | None,
) -> Prepared:
    start = since or last_success(store, sub.email)
    if start is None:
        start = now - timedelta(hours=settings.window_hours)
    elif since is None:
        start = max(start, now - timedelta(days=settings.max_window_days))
    window = windows.get(start)
    if window is None:
        window = windows[start] = Window(store, start, now)
    digest = build_digest(
        store,
        sub,
        window,
        settings=settings,
        sent=sent_items(store, sub.email),
        expand=expand,
        covers=covers,
    )
    unsubscribe = unsubscribe_target(settings, sender, sub.email)
    title = subject(digest, settings)
    text = render_text(digest, settings, unsubscribe)
    html = render_html(digest, settings, unsubscribe)
    message = None
    if not digest.empty or sub.send_empty:
        message = build_message(
            sender=sender,
            to_email=sub.email,
            to_name=sub.name,
            subject=title,
            text=text,
            html=html,
            now=now,
            unsubscribe=unsubscribe,
        )
    return Prepared(sub, digest, title, text, html, message)


def send_all(
    store: Store,
    prepared: Iterable[Prepared | Failed],
    smtp: SmtpSettings,
    *,
    now: datetime,
    opener: Connect = connect,
    journal: SendJournal | None = None,
) -> list[Outcome]:
    """Send each prepared message on one SMTP session (reopened once if the server drops it)
    and record each accepted one at once.

    With a ``journal``, an accepted message is journalled before it is recorded, and a record the
    database cannot take (busy past its timeout, full) stays journalled for the next run: the
    other recipients are still served, and nobody is mailed the same items twice.
    """
    outcomes: list[Outcome] = []
    session: smtplib.SMTP | None = None
    broken: str | None = None  # the server cannot be reached: the rest fail with this reason
    db_down: str | None = None  # the database refused a record: journal the rest, retry at the end
    try:
        for item in prepared:
            if isinstance(item, Failed):  # this recipient's digest could not be built
                outcomes.append(Outcome(item.email, "failed", error=item.reason))
                continue
            sub = item.subscriber
            if item.message is None:
                outcomes.append(Outcome(sub.email, "skipped", item.subject))
                continue
            if broken:
                outcomes.append(_failed(store, item, now, broken))
                continue
            error = None
            for attempt in (1, 2):
                try:
                    if session is None:
                        session = opener(smtp)
                    session.send_message(item.message, from_addr=smtp.sender, to_addrs=[sub.email])
                    error = None
                    break
                except SendError as exc:  # connecting or logging in failed
                    broken = error = str(exc)
                    break
                except smtplib.SMTPServerDisconnected as exc:
                    # Dropped mid-batch: this message was not acknowledged; reconnect once.
                    session = None
                    error = f"the server closed the connection ({exc or 'no reason given'})"
                    if attempt == 2:
                        broken = error
                except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError) as exc:
                    error = f"refused: {_refusal(exc)}"
                    break
                except (smtplib.SMTPException, OSError, ValueError) as exc:
                    session = None
                    error = f"{type(exc).__name__}: {exc}"
                    break
            if error is not None:
                log.warning("digest to %s failed: %s", sub.email, error)
                outcomes.append(_failed(store, item, now, error))
                continue
            record = _record_of(item, now)
            entry = journal.add(record) if journal is not None else None
            recorded = False
            if db_down is None:
                try:
                    write_record(store, record)
                    recorded = True
                except sqlite3.Error as exc:
                    db_down = str(exc)
                    log.warning("could not record the digest to %s yet (%s)", sub.email, exc)
            if recorded and entry is not None and journal is not None:
                journal.done(entry)
            outcomes.append(
                Outcome(sub.email, "sent", item.subject, len(record["ids"]), recorded=recorded)
            )
    finally:
        if session is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                session.quit()
    if db_down is not None and journal is not None:
        journal.replay(lambda r: write_record(store, r))  # one more try before the run ends
        still = {r["email"] for _, r in journal.pending()}
        for outcome in outcomes:
            if outcome.status == "sent" and not outcome.recorded:
                outcome.recorded = outcome.email not in still
    return outcomes


@dataclass
class Failed:
    """One recipient's digest that could not be built; :func:`prepare` yields it in its place,
    so the other recipients are still served."""

    email: str
    reason: str


def _refusal(exc: smtplib.SMTPException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(exc.recipients.values()))
        return f"{code} {reply_text(reply)}"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {reply_text(exc.smtp_error)}"
    return str(exc)


def _record_of(item: Prepared, now: datetime, error: str | None = None) -> Record:
    """The send record of ``item``: sent (with its items and Message-ID), or failed with ``error``."""
    sent = error is None and item.message is not None
    return {
        "email": item.subscriber.email,
        "stamp": iso(now),
        "window_start": iso(item.digest.start),
        "window_end": iso(item.digest.end),
        "message_id": item.message["Message-ID"] if sent and item.message else None,
        "subject": item.subject,
        "ids": sorted(item.digest.item_ids) if sent else [],
        "status": "sent" if sent else "failed",
        "error": error,
    }


def _failed(store: Store, item: Prepared, now: datetime, error: str) -> Outcome:
    try:
        write_record(store, _record_of(item, now, error))
    except sqlite3.Error as exc:  # a failure's record is history only; the send itself counts
        log.warning("could not record the failed digest to %s (%s)", item.subscriber.email, exc)
    return Outcome(item.subscriber.email, "failed", item.subject, 0, error)


def write_record(store: Store, record: Record) -> None:
    """One send's row and, for a sent one, its items, in one transaction. Idempotent for a sent
    record (keyed on its Message-ID), so a journal replayed twice records it once."""
    write_send(store, dict(record))
