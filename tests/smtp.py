"""A real SMTP server on loopback (aiosmtpd) that records what it accepts, and can misbehave."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Inbox:
    """What the server accepted, and how it should misbehave."""

    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)  # recipients answered with 550
    drop_on: set[str] = field(default_factory=set)  # close the connection at this recipient
    drop_times: int = 1  # ... this many times, then accept
    on_message: Any = None  # called after each accepted message (tests hold locks from it)
    code: str = ""  # answer DATA with this instead of accepting (e.g. "421 4.3.0 shutting down")
    user: str = "tracker"
    password: str = "s3cret-Pa55"

    def to(self, email: str) -> list[EmailMessage]:
        return [m for rcpts, m in self.messages if email in rcpts]


class _Handler:
    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.inbox.drop_on and self.inbox.drop_times > 0:
            self.inbox.drop_times -= 1
            server.transport.close()
            return "421 closing"
        if address in self.inbox.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.inbox.code:
            return self.inbox.code
        msg = message_from_bytes(envelope.original_content, policy=policy.default)
        self.inbox.messages.append((list(envelope.rcpt_tos), msg))  # type: ignore[arg-type]
        if self.inbox.on_message is not None:
            self.inbox.on_message()
        return "250 Message accepted"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _authenticator(inbox: Inbox) -> Any:
    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login.decode() == inbox.user
            and data.password.decode() == inbox.password
        )
        return AuthResult(success=ok, handled=False)  # False: the server answers 535 itself

    return check


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


def _serve(inbox: Inbox, **kwargs: Any) -> Iterator[dict[str, str]]:
    port = _free_port()
    controller = Controller(_Handler(inbox), hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield {
            "TRACKER_SMTP_HOST": "127.0.0.1",
            "TRACKER_SMTP_PORT": str(port),
            "TRACKER_MAIL_FROM": "Tracker <tracker@example.org>",
        }
    finally:
        controller.stop()


@pytest.fixture
def smtp_env(inbox: Inbox) -> Iterator[dict[str, str]]:
    """A plain server (no TLS, no login): the client must be told security=none."""
    for env in _serve(inbox):
        yield {**env, "TRACKER_SMTP_SECURITY": "none"}


@pytest.fixture
def smtp_auth_env(inbox: Inbox) -> Iterator[dict[str, str]]:
    """A server that wants a login (over plain text: loopback only)."""
    for env in _serve(
        inbox, authenticator=_authenticator(inbox), auth_required=True, auth_require_tls=False
    ):
        yield {**env, "TRACKER_SMTP_SECURITY": "none", "TRACKER_SMTP_USER": inbox.user}
