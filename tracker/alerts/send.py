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
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from tracker.alerts.build import Batch, render_text
from tracker.config.digest import DigestSettings
from tracker.digest.mail import Connect, SmtpSettings, build_message, connect
from tracker.digest.send import unsubscribe_target
from tracker.errors import SendError
from tracker.store import Store
from tracker.store import alerts as db

log = logging.getLogger(__name__)


@dataclass
class AlertOutcome:
    email: str
    status: str  # sent | nothing | baseline | failed
    subject: str = ""
    alerts: int = 0
    error: str | None = None


def send_alerts(
    store: Store,
    batches: Iterable[Batch],
    smtp: SmtpSettings,
    settings: DigestSettings,
    *,
    now: datetime,
    opener: Connect = connect,
) -> list[AlertOutcome]:
    """Send each batch with alerts on one SMTP session (reopened once if dropped)."""
    outcomes: list[AlertOutcome] = []
    session: smtplib.SMTP | None = None
    broken: str | None = None
    try:
        for batch in batches:
            sub = batch.subscriber
            assert batch.checked_at is not None
            if batch.baseline or not batch.alerts:
                db.set_marks(store, sub.email, batch.checked_at, batch.event_id)
                outcomes.append(
                    AlertOutcome(sub.email, "baseline" if batch.baseline else "nothing")
                )
                continue
            subject, text = batch.subject, render_text(batch)
            message = build_message(
                sender=smtp.sender,
                to_email=sub.email,
                to_name=sub.name,
                subject=subject,
                text=text,
                html=f'<pre style="font-family:inherit;white-space:pre-wrap">{html.escape(text)}</pre>',
                now=now,
                unsubscribe=unsubscribe_target(settings, smtp.sender, sub.email),
            )
            error = broken
            for attempt in (1, 2):
                if broken:
                    break
                try:
                    if session is None:
                        session = opener(smtp)
                    session.send_message(message, from_addr=smtp.sender, to_addrs=[sub.email])
                    error = None
                    break
                except SendError as exc:
                    broken = error = str(exc)
                except smtplib.SMTPServerDisconnected as exc:
                    session = None  # not acknowledged: reconnect once
                    error = f"the server closed the connection ({exc or 'no reason given'})"
                    if attempt == 2:
                        broken = error
                except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError) as exc:
                    error = f"refused: {exc}"
                    break
                except (smtplib.SMTPException, OSError, ValueError) as exc:
                    session = None
                    error = f"{type(exc).__name__}: {exc}"
                    break
            if error is not None:
                log.warning("alerts to %s failed: %s", sub.email, error)
                outcomes.append(
                    AlertOutcome(sub.email, "failed", subject, len(batch.alerts), error)
                )
                continue
            db.record_sent(
                store,
                sub.email,
                [(a.key, a.title) for a in batch.alerts],
                subject,
                now,
                batch.checked_at,
                batch.event_id,
            )
            outcomes.append(AlertOutcome(sub.email, "sent", subject, len(batch.alerts)))
    finally:
        if session is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                session.quit()
    return outcomes
