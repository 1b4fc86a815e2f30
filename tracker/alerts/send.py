"""Mailing each recipient's alerts in one short message per run, exactly once.

An alert is recorded as sent (``alert_sends``, with the recipient's new marks) only after the
SMTP server accepted the message, in one transaction: a recipient refused or a connection
dropped sends nothing recorded, and the next run builds their alerts again from the same marks
(the others are not mailed twice). The same SMTP settings as the digest.
"""

from __future__ import annotations

import contextlib
import html
import logging
import smtplib
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tracker.alerts.build import Batch, render_text, subject_of
from tracker.config.digest import DigestSettings
from tracker.digest.journal import SendJournal
from tracker.digest.mail import Connect, SmtpSettings, build_message, connect
from tracker.digest.send import unsubscribe_target
from tracker.errors import SendError
from tracker.store import Store, iso
from tracker.store import alerts as db

log = logging.getLogger(__name__)


@dataclass
class AlertOutcome:
    email: str
    status: str  # sent | nothing | baseline | failed
    subject: str = ""
    alerts: int = 0
    error: str | None = None


Post = Callable[[str, dict[str, Any]], int]  # url, JSON body -> HTTP status (raises OSError)
HOOK_ATTEMPTS = 3
HOOK_BACKOFF = 0.5  # seconds before the second attempt, doubled before each next one


def send_alerts(
    store: Store,
    batches: Iterable[Batch],
    smtp: SmtpSettings | None,
    settings: DigestSettings,
    *,
    now: datetime,
    opener: Connect = connect,
    post: Post | None = None,
    sleep: Callable[[float], None] = time.sleep,
    journal: SendJournal | None = None,
) -> list[AlertOutcome]:
    """Mail each batch with alerts on one SMTP session (reopened once if dropped) and POST it
    to the recipient's webhook; a recipient's marks move on only when both channels took it.

    With a ``journal``, what a channel took is journalled before it is recorded, and a record
    the database cannot take (busy past its timeout, full) stays there for the next run, which
    records it before building anything: nobody is sent an alert twice.
    """
    outcomes: list[AlertOutcome] = []
    unrecorded = False

    def keep(record: dict[str, Any]) -> bool:
        """Journal, then record; False when the record waits in the journal."""
        nonlocal unrecorded
        entry = journal.add(record) if journal is not None else None
        try:
            write_record(store, record)
        except sqlite3.Error as exc:
            if journal is None:
                raise
            unrecorded = True
            log.warning("alerts to %s sent, not yet recorded (%s)", record["email"], exc)
            return False
        if entry is not None and journal is not None:
            journal.done(entry)
        return True

    session: smtplib.SMTP | None = None
    broken: str | None = None
    try:
        for batch in batches:
            sub = batch.subscriber
            assert batch.checked_at is not None
            if batch.baseline or not (batch.alerts or batch.hook_alerts):
                if not unrecorded:
                    db.set_marks(store, sub.email, batch.checked_at, batch.event_id)
                outcomes.append(
                    AlertOutcome(sub.email, "baseline" if batch.baseline else "nothing")
                )
                continue
            errors = []
            recorded = True
            stamp = iso(now) or ""
            if batch.alerts and smtp is not None:
                error, session, broken = _mail(batch, smtp, settings, now, session, broken, opener)
                if error is None:
                    recorded &= keep(
                        {
                            "message_id": f"mail|{sub.email}|{stamp}",
                            "kind": "mail",
                            "email": sub.email,
                            "keys": [[a.key, a.title] for a in batch.alerts],
                            "subject": batch.subject,
                            "at": stamp,
                        }
                    )
                else:
                    errors.append(error)
            if batch.hook_alerts and sub.webhook:
                error = _hook(batch, post or post_json, sleep)
                if error is None:
                    recorded &= keep(
                        {
                            "message_id": f"hook|{sub.email}|{stamp}",
                            "kind": "hook",
                            "email": sub.email,
                            "url": sub.webhook,
                            "keys": [a.key for a in batch.hook_alerts],
                            "at": stamp,
                        }
                    )
                else:
                    errors.append(f"webhook: {error}")
            if errors:
                log.warning("alerts to %s failed: %s", sub.email, "; ".join(errors))
                outcomes.append(
                    AlertOutcome(
                        sub.email, "failed", batch.subject, len(batch.alerts), "; ".join(errors)
                    )
                )
                continue
            if recorded and not unrecorded:  # (a busy database takes no marks either)
                db.set_marks(store, sub.email, batch.checked_at, batch.event_id)
            count = len(batch.alerts) or len(batch.hook_alerts)
            outcomes.append(AlertOutcome(sub.email, "sent", batch.subject, count))
    finally:
        if session is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                session.quit()
    return outcomes


def _mail(
    batch: Batch,
    smtp: SmtpSettings,
    settings: DigestSettings,
    now: datetime,
    session: smtplib.SMTP | None,
    broken: str | None,
    opener: Connect,
) -> tuple[str | None, smtplib.SMTP | None, str | None]:
    """(error or None, the session to go on with, why the server is unreachable)."""
    sub = batch.subscriber
    text = render_text(batch)
    message = build_message(
        sender=smtp.sender,
        to_email=sub.email,
        to_name=sub.name,
        subject=batch.subject,
        text=text,
        html=f'<pre style="font-family:inherit;white-space:pre-wrap">{html.escape(text)}</pre>',
        now=now,
        unsubscribe=unsubscribe_target(settings, smtp.sender, sub.email),
    )
    if broken:
        return broken, session, broken
    error: str | None = None
    for attempt in (1, 2):
        try:
            if session is None:
                session = opener(smtp)
            session.send_message(message, from_addr=smtp.sender, to_addrs=[sub.email])
            return None, session, broken
        except SendError as exc:
            return str(exc), session, str(exc)
        except smtplib.SMTPServerDisconnected as exc:
            session = None  # not acknowledged: reconnect once
            error = f"the server closed the connection ({exc or 'no reason given'})"
            if attempt == 2:
                broken = error
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError) as exc:
            return f"refused: {exc}", session, broken
        except (smtplib.SMTPException, OSError, ValueError) as exc:
            return f"{type(exc).__name__}: {exc}", None, broken
    return error, session, broken


def _hook(batch: Batch, post: Post, sleep: Callable[[float], None]) -> str | None:
    """POST the batch's webhook alerts; retried with backoff on errors and 5xx/429, never
    again after a 2xx. Returns the last error, or None."""
    url = batch.subscriber.webhook
    alerts = batch.hook_alerts
    body = {
        "text": render_text(batch, alerts),
        "subject": subject_of(alerts),
        "alerts": [
            {"key": a.key, "kind": a.kind, "title": a.title, "detail": a.detail, "url": a.url,
             "watch": a.watch}
            for a in alerts
        ],
    }  # fmt: skip
    error = None
    for attempt in range(HOOK_ATTEMPTS):
        if attempt:
            sleep(HOOK_BACKOFF * 2 ** (attempt - 1))
        try:
            status = post(url, body)
        except OSError as exc:
            error = f"{type(exc).__name__}: {exc}"
            continue
        if 200 <= status < 300:
            return None
        error = f"HTTP {status}"
        if status < 500 and status != 429:
            break  # the receiver refuses this body: asking again will not help
    return error


def post_json(url: str, body: dict[str, Any]) -> int:
    """POST ``body`` as JSON; the status code (connection errors raise OSError)."""
    import requests

    try:
        return requests.post(url, json=body, timeout=(10, 30)).status_code
    except requests.RequestException as exc:
        raise OSError(str(exc)) from exc


def write_record(store: Store, record: dict[str, Any]) -> None:
    """Record what a channel took (idempotent: replaying a journalled record changes nothing)."""
    at = datetime.fromisoformat(record["at"])
    if record["kind"] == "mail":
        keys = [(k, t) for k, t in record["keys"]]
        db.record_sent(store, record["email"], keys, record["subject"], at)
    else:
        db.record_hooked(store, record["email"], record["url"], record["keys"], at)
