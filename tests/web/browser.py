"""Debian's chromium driven by Playwright, shared by the browser tests and
scripts/dev/screenshots.py, and a recorder of what a page did (requests,
console errors) so a test can say that nothing left the host.

Playwright's own browser download cannot be reached from these machines, so the
browser is the system's (`apt-get install chromium`, which `scripts/dev.py test`
runs when it is missing and the user is root).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.async_api import Browser, ConsoleMessage, Page, Playwright, Request, Response

# Headless without the background services that would try to reach Google's hosts
# (the machine's closed network refuses them, many at a time).
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# A failed API response is logged by the browser as a console error; the client answers these
# on purpose (no session yet, wrong password, too many attempts, gone), so they are expected.
# A failed page or asset (under /web/) never is: `PageRecord` counts those on their own.
EXPECTED_FAILED_RESOURCE = re.compile(r"^Failed to load resource: the server responded with a status of "
                                      r"(401|404|409|429) ")


class MissingTool(RuntimeError):
    """The browser or axe-core is not installed; the message says how to install it."""


def chromium_path() -> str:
    found = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        raise MissingTool("chromium is not installed: `python3 scripts/dev.py test` installs it when run as "
                          "root, or run `apt-get install chromium`")
    return found


def axe_script_path() -> Path:
    """axe-core's browser build, installed by `scripts/dev.py test` beside the virtual environment's packages."""
    given = os.environ.get("AXE_CORE_JS")
    path = Path(given) if given else Path(sys.prefix) / "web-test-deps" / "node_modules" / "axe-core" / "axe.min.js"
    if not path.exists():
        raise MissingTool(f"axe-core is not installed at {path}: run `python3 scripts/dev.py test` "
                          "(it installs the pinned version with npm)")
    return path


async def launch(playwright: Playwright) -> Browser:
    return await playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)


@dataclass
class PageRecord:
    """What one page asked for and complained about."""

    base: str
    requests: list[Request] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    allowed_statuses: set[int] = field(default_factory=set)

    def attach(self, page: Page) -> None:
        page.on("request", lambda request: self.requests.append(request))
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.console_errors.append(f"uncaught: {error}"))
        page.on("response", self._response)

    def _response(self, response: Response) -> None:
        path = urlsplit(response.url).path
        if response.status >= 400 and (path in ("/", "/docs", "/redoc") or path.startswith("/web/")):
            self.console_errors.append(f"{response.status} for {path}")

    def _console(self, message: ConsoleMessage) -> None:
        if message.type != "error" or EXPECTED_FAILED_RESOURCE.match(message.text):
            return
        status = re.search(r"status of (\d{3}) ", message.text)
        if status and int(status.group(1)) in self.allowed_statuses:
            return
        self.console_errors.append(message.text)

    def foreign_requests(self) -> list[str]:
        """Requests to anything but the server under test (blob: and data: stay in the page)."""
        return [r.url for r in self.requests
                if not (r.url.startswith(self.base + "/") or r.url.startswith(("blob:", "data:")))]
