"""A confirmation sender that keeps what it was asked to send (api/confirmation.py's interface)."""

from __future__ import annotations

import re

from api.confirmation import OutgoingEmail

LINK = re.compile(r"https?://\S+/#/confirm/([A-Za-z0-9_-]+)")


class RecordingSender:
    def __init__(self) -> None:
        self.sent: list[OutgoingEmail] = []

    async def send(self, message: OutgoingEmail) -> None:
        self.sent.append(message)

    def to(self, address: str) -> list[OutgoingEmail]:
        return [message for message in self.sent if message.to == address]

    def token_for(self, address: str) -> str:
        """The token of the last confirmation link sent to `address`."""
        for message in reversed(self.to(address)):
            match = LINK.search(message.body)
            if match:
                return match.group(1)
        raise AssertionError(f"no confirmation link was sent to {address}")
