"""The web client and the API docs as files the app serves: every page and asset is local
(no CDN, no other host), every page carries a CSP without inline scripts, and the wheel
ships every file of api/web."""

from __future__ import annotations

import re
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import httpx
import pytest

from api.routes.web import WEB_DIR
from tests.utils.db import ROOT

PAGES = {"/": "index.html", "/docs": "docs/swagger.html", "/redoc": "docs/redoc.html"}
REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")
MODULE_IMPORT = re.compile(r"""^\s*import\b[^"']*["']([^"']+)["']""", re.MULTILINE)


def directives(csp: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in (p.strip() for p in csp.split(";")) if part}


@pytest.mark.parametrize("path", list(PAGES))
async def test_pages_have_a_csp_without_inline_scripts_and_load_only_local_files(
        client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    csp = directives(response.headers["content-security-policy"])
    assert csp["script-src"] == ["'self'"] and csp["default-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"] and csp["connect-src"] == ["'self'"]
    if path == "/":
        assert csp["style-src"] == ["'self'"]
    html = response.text
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "an inline script"
    assert not re.search(r"<[^>]*\son[a-z]+\s*=", html), "an inline event handler"
    for reference in REFERENCE.findall(html):
        if reference.startswith("#"):
            continue
        assert reference.startswith("/") and not reference.startswith("//"), reference
        asset = await client.get(reference)
        assert asset.status_code == 200, reference
        assert asset.headers["x-content-type-options"] == "nosniff"
        assert asset.headers["cache-control"] == "no-cache"


async def test_scripts_are_modules_importing_only_local_files(client: httpx.AsyncClient) -> None:
    scripts = sorted(WEB_DIR.glob("*.js"))
    assert {p.name for p in scripts} >= {"actions.js", "app.js", "api.js", "chat.js", "render.js", "runs.js",
                                         "sidebar.js", "stream.js"}
    for script in scripts:
        response = await client.get(f"/web/{script.name}")
        assert response.status_code == 200
        assert response.headers["content-type"].split(";")[0] in ("text/javascript", "application/javascript")
        for target in MODULE_IMPORT.findall(script.read_text(encoding="utf-8")):
            assert target.startswith("./") and (WEB_DIR / target).exists(), f"{script.name} imports {target}"
        # Text goes in as text: the client never assigns HTML.
        assert not re.search(r"\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write", script.read_text())


async def test_api_responses_refuse_framing_and_sniffing(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert (await client.get("/web/../db/settings.py")).status_code == 404
    assert (await client.get("/web/nothing-here.js")).status_code == 404


def test_the_wheel_ships_every_file_of_the_web_client() -> None:
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["api"]
    for path in WEB_DIR.rglob("*"):
        if path.is_file():
            relative = path.relative_to(WEB_DIR.parent).as_posix()
            assert any(fnmatch(relative, pattern) and relative.count("/") == pattern.count("/")
                       for pattern in globs), f"{relative} is not in the package data"


def test_vendored_assets_carry_their_licences() -> None:
    for name, licence in (("swagger-ui", "Apache-2.0"), ("redoc", "MIT")):
        folder = WEB_DIR / "vendor" / name
        assert (folder / "LICENSE").exists() and licence in (folder / "VERSION").read_text()
    assert Path(WEB_DIR / "vendor" / "swagger-ui" / "NOTICE").exists()
