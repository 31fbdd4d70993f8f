"""How notifications leave the service: signed webhooks (httpx) and email (aiosmtplib).

Webhooks are signed in the style of Stripe's and GitHub's: the `Navigator-Signature` header is
`t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" under the webhook's secret>`, and every
attempt at one notification carries the same `Idempotency-Key` header. A receiver checks the
signature and the time (reject anything older than a few minutes), then ignores a key it has
already processed. Any 2xx answer is success; anything else, a timeout or a refused connection
is a failed attempt (retried by the outbox). Redirects are not followed, and addresses that are
not public (loopback, private, link-local) are refused unless WEBHOOK_ALLOW_PRIVATE_NETWORKS.

Email carries the key in `X-Navigator-Idempotency-Key` and in a Message-ID derived from it, so
a mail system (or a person) sees a resent notification as the same message.
"""

from __future__ import annotations

import asyncio
import email.policy
import email.utils
import hashlib
import hmac
import ipaddress
import json
import time
from email.message import EmailMessage
from urllib.parse import urlsplit

import aiosmtplib
import httpx

from db.runs.outbox import Delivery, DeliveryFailed, DeliverySkipped
from db.settings import Settings

SIGNATURE_HEADER = "Navigator-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
EVENT_HEADER = "Navigator-Event"
EMAIL_KEY_HEADER = "X-Navigator-Idempotency-Key"
USER_AGENT = "InsuranceNavigator-Webhooks/1"
MESSAGE_ID_DOMAIN = "insurance-navigator"
# Lines up to RFC 5322's limit: the key header is one long word, which folding at 78 would encode.
EMAIL_POLICY = email.policy.SMTP.clone(max_line_length=998)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value for one attempt."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, *, tolerance_seconds: float = 300, now: float | None = None) -> bool:
    """What a receiver does (the README shows the same in a few lines): a valid v1 signature, recent enough."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance_seconds:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts.get("v1", ""))


async def check_public_address(url: str) -> None:
    """DeliveryFailed unless every address the host resolves to is public."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, parts.port or (443 if parts.scheme == "https"
                                                                                   else 80))
    except OSError:
        raise DeliveryFailed(f"cannot resolve the webhook's host {host!r}") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address.is_global:
            raise DeliveryFailed(f"the webhook's host {host!r} resolves to a non-public address; refused "
                                 "(WEBHOOK_ALLOW_PRIVATE_NETWORKS)")


class WebhookSender:
    """POSTs a notification's JSON, signed, with its idempotency key."""

    def __init__(self, settings: Settings, client: httpx.AsyncClient | None = None) -> None:
        self.allow_private = settings.webhook_allow_private_networks
        self.timeout = settings.notify_timeout_seconds
        self.client = client or httpx.AsyncClient(follow_redirects=False, trust_env=False)

    async def aclose(self) -> None:
        await self.client.aclose()

    async def __call__(self, delivery: Delivery) -> None:
        if delivery.url is None or delivery.secret is None:
            raise DeliverySkipped("the webhook is gone")
        if not self.allow_private:
            await check_public_address(delivery.url)
        body = json.dumps(delivery.payload(), separators=(",", ":"), sort_keys=True).encode()
        # Wall time, not the service clock: receivers compare it with their own clock.
        timestamp = int(time.time())
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
                   SIGNATURE_HEADER: sign(delivery.secret, timestamp, body),
                   IDEMPOTENCY_HEADER: delivery.idempotency_key, EVENT_HEADER: delivery.kind}
        try:
            response = await self.client.post(delivery.url, content=body, headers=headers, timeout=self.timeout)
        except httpx.TimeoutException:
            raise DeliveryFailed(f"no answer within {self.timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"could not reach the receiver ({type(exc).__name__})") from None
        if not 200 <= response.status_code < 300:
            raise DeliveryFailed(f"the receiver answered HTTP {response.status_code}")


def message_id(idempotency_key: str) -> str:
    return f"<{hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]}@{MESSAGE_ID_DOMAIN}>"


def email_message(settings: Settings, delivery: Delivery) -> EmailMessage:
    message = EmailMessage(policy=EMAIL_POLICY)
    message["From"] = settings.smtp_from
    message["To"] = delivery.email or ""
    message["Subject"] = delivery.title
    message["Message-ID"] = message_id(delivery.idempotency_key)
    message[EMAIL_KEY_HEADER] = delivery.idempotency_key
    case = f"\n\nCase: {delivery.case_id}" if delivery.case_id else ""
    message.set_content(f"{delivery.body}{case}\n\nThis is guidance, not legal or medical advice.\n")
    return message


async def smtp_send(settings: Settings, message: EmailMessage, recipient: str) -> None:
    """One message to one recipient over the configured SMTP server (SMTP_*); aiosmtplib's errors propagate."""
    assert settings.smtp_host is not None
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    # Flattened here, with this policy (aiosmtplib would fold lines at 78 characters).
    raw = message.as_bytes(policy=EMAIL_POLICY)
    await aiosmtplib.send(raw, sender=email.utils.parseaddr(settings.smtp_from)[1], recipients=[recipient],
                          hostname=settings.smtp_host, port=settings.smtp_port, username=settings.smtp_username,
                          password=password, use_tls=settings.smtp_security == "tls",
                          start_tls=settings.smtp_security == "starttls", timeout=settings.notify_timeout_seconds)


class EmailSender:
    """Sends a notification as one email to the account's address over SMTP."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def __call__(self, delivery: Delivery) -> None:
        settings = self.settings
        if settings.smtp_host is None:
            raise DeliverySkipped("email is off on this server (SMTP_HOST is not set)")
        if not delivery.email:
            raise DeliverySkipped("the account has no email address")
        try:
            await smtp_send(settings, email_message(settings, delivery), delivery.email)
        except aiosmtplib.SMTPResponseException as exc:
            raise DeliveryFailed(f"the mail server answered {exc.code}") from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(f"could not send the email ({type(exc).__name__})") from None

