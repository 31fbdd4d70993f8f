"""PATCH /conversations/{id}: rename and pin; the list filtered by `pinned`."""

from __future__ import annotations

import uuid

import httpx

from tests.api.conftest import Account


async def create(client: httpx.AsyncClient, account: Account, title: str) -> dict[str, object]:
    response = await client.post("/conversations", json={"title": title}, headers=account.headers)
    assert response.status_code == 201
    body: dict[str, object] = response.json()
    assert body["pinned"] is False
    return body


async def test_rename_and_pin_each_leave_the_other_and_the_activity_alone(client: httpx.AsyncClient,
                                                                          alice: Account) -> None:
    created = await create(client, alice, "first title")
    path = f"/conversations/{created['id']}"
    renamed = (await client.patch(path, json={"title": "  Knee MRI denial "}, headers=alice.headers)).json()
    assert (renamed["title"], renamed["pinned"]) == ("  Knee MRI denial ", False)
    pinned = (await client.patch(path, json={"pinned": True}, headers=alice.headers)).json()
    assert (pinned["title"], pinned["pinned"]) == ("  Knee MRI denial ", True)
    assert pinned["updated_at"] == created["updated_at"]  # renaming or pinning is not activity
    both = (await client.patch(path, json={"title": "done", "pinned": False}, headers=alice.headers)).json()
    assert (both["title"], both["pinned"]) == ("done", False)
    unchanged = await client.patch(path, json={}, headers=alice.headers)
    assert unchanged.status_code == 200 and unchanged.json()["title"] == "done"
    assert (await client.get(path, headers=alice.headers)).json()["title"] == "done"


async def test_a_title_is_masked_and_checked(client: httpx.AsyncClient, alice: Account) -> None:
    path = f"/conversations/{(await create(client, alice, 'x'))['id']}"
    for bad in ({"title": ""}, {"title": "   "}, {"title": "x" * 201}, {"title": None, "extra": 1},
                {"pinned": "sometimes"}, {"title": "a\x00b"}):
        response = await client.patch(path, json=bad, headers=alice.headers)
        assert response.status_code == 422, bad
    masked = (await client.patch(path, json={"title": "ssn 123-45-6789"}, headers=alice.headers)).json()
    assert "6789" not in masked["title"]


async def test_only_the_owner_can_change_it(client: httpx.AsyncClient, alice: Account, bob: Account) -> None:
    path = f"/conversations/{(await create(client, alice, 'mine'))['id']}"
    assert (await client.patch(path, json={"title": "bob's now"}, headers=bob.headers)).status_code == 404
    assert (await client.patch(path, json={"title": "t"})).status_code == 401
    assert (await client.patch(f"/conversations/{uuid.uuid4()}", json={"pinned": True},
                               headers=alice.headers)).status_code == 404
    assert (await client.get(path, headers=alice.headers)).json()["title"] == "mine"


async def test_list_pinned_or_not(client: httpx.AsyncClient, bob: Account) -> None:
    ids = [str((await create(client, bob, f"c{i}"))["id"]) for i in range(3)]
    await client.patch(f"/conversations/{ids[1]}", json={"pinned": True}, headers=bob.headers)

    async def listed(**params: object) -> list[str]:
        response = await client.get("/conversations", params={"limit": 100, **params}, headers=bob.headers)
        assert response.status_code == 200
        return [c["id"] for c in response.json()["items"] if c["id"] in ids]

    assert await listed(pinned="true") == [ids[1]]
    assert await listed(pinned="false") == [ids[2], ids[0]]
    assert await listed() == [ids[2], ids[1], ids[0]]
    assert (await client.get("/conversations", params={"pinned": "maybe"}, headers=bob.headers)).status_code == 422
