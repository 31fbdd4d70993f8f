"""Registration confirmed by email: the messages, and the small interface that sends them.

When the app has a `ConfirmationSender` (and PUBLIC_URL, for the links),
`POST /auth/register` creates no account: a free address gets a link that
creates it, an address that has an account gets a note saying so (sign in, or
ignore it). Both are sent after the answer, which is the same for both.
Without a sender, registration creates the account at once.

The sender is anything with `async send(OutgoingEmail)`: `SmtpConfirmationSender`
(the SMTP_* server of notifications, used when the settings say registration
confirms by email), or a test's list. A failed send is logged (without the
address or the link) and the person can register again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

from api.notify import EMAIL_POLICY, smtp_send
from db.settings import Settings

log = logging.getLogger("api.confirmation")

CONFIRM_ROUTE = "/#/confirm/"


@dataclass(frozen=True)
class OutgoingEmail:
    to: str
    subject: str
    body: str


class ConfirmationSender(Protocol):
    async def send(self, message: OutgoingEmail) -> None: ...


class SmtpConfirmationSender:
    """Sends over the SMTP server notifications use (SMTP_HOST, SMTP_PORT, SMTP_FROM...)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def send(self, message: OutgoingEmail) -> None:
        mail = EmailMessage(policy=EMAIL_POLICY)
        mail["From"] = self.settings.smtp_from
        mail["To"] = message.to
        mail["Subject"] = message.subject
        mail.set_content(message.body)
        await smtp_send(self.settings, mail, message.to)


def confirmation_link(public_url: str, token: str) -> str:
    """The web client's route: the token travels in the fragment, which browsers never send to a server."""
    return f"{public_url}{CONFIRM_ROUTE}{token}"


def confirmation_email(public_url: str, email: str, token: str, hours: int) -> OutgoingEmail:
    return OutgoingEmail(email, "Confirm your Insurance Navigator account", (
        "Someone (we hope you) asked to create an Insurance Navigator account with this address.\n\n"
        f"To create it, open this link within {hours} hours:\n\n{confirmation_link(public_url, token)}\n\n"
        "If it was not you, ignore this message: no account is created.\n"))


def already_registered_email(public_url: str, email: str) -> OutgoingEmail:
    return OutgoingEmail(email, "You already have an Insurance Navigator account", (
        "Someone (we hope you) asked to create an Insurance Navigator account with this address, "
        "which already has one. Nothing was changed.\n\n"
        f"To use it, sign in at {public_url}/ with your password.\n\n"
        "If it was not you, ignore this message.\n"))


async def send_quietly(sender: ConfirmationSender, message: OutgoingEmail) -> None:
    """After the answer has gone: a failure is logged, never raised (the person may register again)."""
    try:
        await sender.send(message)
    except Exception as exc:  # the mail server's problem must not surface as the request's
        log.warning("registration email not sent: %s", type(exc).__name__)
