"""One account per address however it is spelled; lookalikes that cannot be folded are refused."""

from __future__ import annotations

import httpx
import pytest

from api.emails import normalize_email
from tests.api.conftest import PASSWORD

FOLDED = {
    "Ann.Lee@Example.COM": "ann.lee@example.com",
    "ａｎｎ.ｌｅｅ@ｅｘａｍｐｌｅ.ｃｏｍ": "ann.lee@example.com",  # fullwidth
    "\u212aelvin@example.com": "kelvin@example.com",  # KELVIN SIGN
    "иван@пример.рф": "иван@пример.рф",  # one script throughout is fine
    "山田たろう@example.jp": "山田たろう@example.jp",  # Han + Hiragana + Latin: Japanese
}
REFUSED = {
    "аnn.lee@example.com": "writing systems",  # Cyrillic а
    "ann.lee@ехample.com": "writing systems",  # Cyrillic е, х
    "ann\u200b.lee@example.com": "invisible",  # zero-width space
    "ann\u200d.lee@example.com": "invisible",  # zero-width joiner
    "ann.lee@example.com\u202e": "invisible",  # right-to-left override
    "\u2067ann.lee@example.com": "invisible",  # right-to-left isolate
    "ann\u00a0lee@example.com": "invisible",  # no-break space
    "ann@lee@example.com": "one address",
}


@pytest.mark.parametrize("given", sorted(FOLDED))
def test_spellings_fold_to_one_address(given: str) -> None:
    assert normalize_email(given) == FOLDED[given]


@pytest.mark.parametrize("given", sorted(REFUSED))
def test_lookalikes_are_refused_with_the_reason(given: str) -> None:
    with pytest.raises(ValueError, match=REFUSED[given]):
        normalize_email(given)


async def test_a_fullwidth_spelling_is_the_same_account(client: httpx.AsyncClient) -> None:
    await client.post("/auth/register", json={"email": "dora.k@example.com", "password": PASSWORD})
    again = await client.post("/auth/register", json={"email": "ｄｏｒａ.Ｋ@example.com", "password": "other password"})
    assert again.status_code == 202 and again.json()["email"] == "dora.k@example.com"
    signed_in = await client.post("/auth/login", json={"email": "ＤＯＲＡ.k@EXAMPLE.com", "password": PASSWORD})
    assert signed_in.status_code == 200


@pytest.mark.parametrize("given", ["pаypal@example.com", "pay\u200bpal@example.com", "paypal@example.com\u202e"])
async def test_registering_a_lookalike_is_422_without_echo(client: httpx.AsyncClient, given: str) -> None:
    response = await client.post("/auth/register", json={"email": given, "password": PASSWORD})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "email"]
    assert given not in response.text
