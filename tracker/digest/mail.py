"""Mail: building a digest message and sending it over SMTP, settings from the environment only.

The password is read from ``TRACKER_SMTP_PASSWORD`` and never written anywhere: not in logs, not
in errors (smtplib's own messages carry the server's reply, never the credentials).
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from tracker.errors import ConfigError, SendError

SECURITY = ("starttls", "ssl", "none")


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    user: str | None = None
    password: str | None = field(default=None, repr=False)  # never shown
    security: str = "starttls"
    timeout: float = 30.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SmtpSettings:
        """``TRACKER_SMTP_HOST``, ``_PORT``, ``_USER``, ``_PASSWORD``, ``_SECURITY`` and
        ``TRACKER_MAIL_FROM``.

        Raises:
            ConfigError: the host or sender is missing, or the port or security is not valid.
        """
        host = env.get("TRACKER_SMTP_HOST", "").strip()
        sender = env.get("TRACKER_MAIL_FROM", "").strip()
        if not host:
            raise ConfigError("set TRACKER_SMTP_HOST (and TRACKER_MAIL_FROM) to send mail")
        if not sender or "@" not in sender:
            raise ConfigError(
                "set TRACKER_MAIL_FROM to the sender address, e.g. tracker@example.org"
            )
        security = env.get("TRACKER_SMTP_SECURITY", "starttls").strip().lower()
        if security not in SECURITY:
            raise ConfigError(f"TRACKER_SMTP_SECURITY must be one of {', '.join(SECURITY)}")
        default_port = {"starttls": 587, "ssl": 465, "none": 25}[security]
        port_text = env.get("TRACKER_SMTP_PORT", "").strip() or str(default_port)
        if not port_text.isdigit():
            raise ConfigError(f"TRACKER_SMTP_PORT must be a number, not {port_text!r}")
        return cls(
            host=host,
            port=int(port_text),
            sender=sender,
            user=env.get("TRACKER_SMTP_USER") or None,
            password=env.get("TRACKER_SMTP_PASSWORD") or None,
            security=security,
        )


def build_message(
    *,
    sender: str,
    to_email: str,
    to_name: str,
    subject: str,
    text: str,
    html: str,
    now: datetime,
    unsubscribe: str,
) -> EmailMessage:
    """A multipart/alternative message: the plain text first, the HTML part preferred."""
    msg = EmailMessage()
    msg["Subject"] = subject  # the policy encodes non-ASCII as RFC 2047 UTF-8
    msg["From"] = sender
    msg["To"] = Address(display_name=to_name, addr_spec=to_email)
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip(">") or None)
    msg["List-Unsubscribe"] = f"<{unsubscribe}>"
    msg["Auto-Submitted"] = "auto-generated"  # no vacation replies to a digest
    msg.set_content(text, charset="utf-8")
    msg.add_alternative(html, subtype="html", charset="utf-8")
    return msg


Connect = Callable[[SmtpSettings], smtplib.SMTP]


def connect(settings: SmtpSettings) -> smtplib.SMTP:
    """An open, authenticated SMTP session.

    Raises:
        SendError: the server cannot be reached, refuses STARTTLS or the login.
    """
    where = f"{settings.host}:{settings.port}"
    try:
        if settings.security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.host,
                settings.port,
                timeout=settings.timeout,
                context=ssl.create_default_context(),
            )
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        try:
            smtp.ehlo()
            if settings.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise SendError(
                        f"{where} does not offer STARTTLS; set TRACKER_SMTP_SECURITY=ssl "
                        "(or none on a trusted local relay)"
                    )
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if settings.user:
                smtp.login(settings.user, settings.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp
    except SendError:
        raise
    except smtplib.SMTPAuthenticationError as exc:
        raise SendError(
            f"{where} refused the login for {settings.user!r} ({exc.smtp_code}); "
            "check TRACKER_SMTP_USER and TRACKER_SMTP_PASSWORD"
        ) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise SendError(f"cannot send through {where}: {_reason(exc)}") from None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {reply_text(exc.smtp_error)}"
    return str(exc) or type(exc).__name__


def reply_text(reply: bytes | str) -> str:
    """An SMTP reply as text (smtplib gives bytes, sometimes str)."""
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
