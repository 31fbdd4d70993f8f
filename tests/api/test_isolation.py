"""Cross-user isolation generated from the OpenAPI document: every operation with a path id,
called by user B on user A's object, is 404, and A's data is untouched. A new route with a
path id is covered automatically (and fails here until its id kind is known)."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
from fastapi import FastAPI

from db.documents import NewDocument
from db.scope import acting_as
from tests.api.conftest import Account

PATH_PARAM = re.compile(r"\{(\w+)\}")


def resolve(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document["components"]["schemas"][name]
    return schema


def example(schema: dict[str, Any], document: dict[str, Any]) -> Any:
    """A minimal valid value for a JSON schema (the shapes FastAPI emits)."""
    schema = resolve(schema, document)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"]
            return example(options[0], document)
    kind = schema.get("type")
    if kind == "object":
        return {name: example(schema["properties"][name], document) for name in schema.get("required", [])}
    if kind == "string":
        return {"uuid": str(uuid.uuid4()), "email": "someone@example.com"}.get(schema.get("format", ""),
                                                                              "isolation check")
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1)
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return True
    if kind == "array":
        return []
    return "isolation check"


def operations_with_path_ids(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for path, item in document["paths"].items():
        if not PATH_PARAM.search(path):
            continue
        for method, operation in item.items():
            found.append((method.upper(), path, operation))
    return found


def example_body(operation: dict[str, Any], document: dict[str, Any]) -> Any:
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return None
    return example(content["application/json"]["schema"], document)


def request_body(operation: dict[str, Any], document: dict[str, Any]) -> Any:
    body = example_body(operation, document)
    if isinstance(body, dict) and "assistant_id" in body:
        body["assistant_id"] = "navigator"  # a real assistant, so Alice's own calls get past it
    return body


async def test_every_path_id_route_is_404_for_another_user(app: FastAPI, client: httpx.AsyncClient,
                                                           alice: Account, bob: Account) -> None:
    document = app.openapi()
    with acting_as(uuid.UUID(alice.id)):  # the services act for a user, as a request would
        conversation = await app.state.conversations.create(alice.id, "alice's")
        await app.state.conversations.append(conversation.id, alice.id, [{"role": "user", "content": "private"}])
        # A second conversation of hers is the Agent Protocol's thread (with a checkpoint and the run), so
        # deleting the conversation above does not take the thread's routes down with it.
        thread = await app.state.conversations.create(alice.id, "alice's thread")
        checkpoint = await app.state.agent_protocol.graph.aupdate_state(
            {"configurable": {"thread_id": str(thread.id)}}, {"summary": "private"}, as_node="communicator")
        run = await app.state.runs.create(alice.id, thread.id, "alice's question")
        key = await app.state.api_keys.create(alice.id, "alice's key")
        letter, _ = await app.state.documents.store(alice.id, NewDocument(
            kind="denial_letter", filename="alice's letter.txt", media_type="text/plain",
            data=b"private letter: your claim was denied", pages=1, text="private letter: your claim was denied",
            chunks=[(1, "private letter: your claim was denied")]))
        case = (await app.state.cases.open(alice.id, "appeal", title="alice's private appeal",
                                           facts={"service": "private surgery"})).case
        webhook, _secret = await app.state.webhooks.create(alice.id, "https://example.com/private-hook")
    notification = await app.state.pool.fetchval(
        "INSERT INTO notifications (user_id, case_id, idempotency_key, kind, title, body, created_at) "
        "VALUES ($1, $2, $3, 'reminder', 'private reminder', 'private', now()) RETURNING id",
        uuid.UUID(alice.id), case.id, f"isolation:{uuid.uuid4()}")
    ids = {"conversation_id": str(conversation.id), "run_id": str(run.id), "thread_id": str(thread.id),
           "checkpoint_id": checkpoint["configurable"]["checkpoint_id"], "key_id": str(key.key.id),
           "document_id": str(letter.id), "case_id": str(case.id), "webhook_id": str(webhook.id),
           "notification_id": str(notification)}

    # Assistants are the server's, the same read-only ones for every user: nothing of Alice's to hide.
    operations = [op for op in operations_with_path_ids(document) if "{assistant_id}" not in op[1]]
    assert len(operations) >= 11, [f"{m} {p}" for m, p, _ in operations]
    for method, path, operation in operations:
        names = PATH_PARAM.findall(path)
        assert set(names) <= set(ids), f"{method} {path}: teach this test the id kind {names}"
        url = path.format(**ids)
        response = await client.request(method, url, headers=bob.headers, json=request_body(operation, document))
        assert response.status_code == 404, (method, path, response.status_code, response.text)
        assert "private" not in response.text and "alice" not in response.text
        assert "404" in operation["responses"], f"{method} {path} does not document its 404"

    # Nothing of Alice's changed, and her own calls do find the objects (so the 404s were about ownership).
    with acting_as(uuid.UUID(alice.id)):
        assert (await app.state.conversations.get(conversation.id, alice.id)).title == "alice's"
        assert (await app.state.runs.get(run.id, alice.id)).status == "pending"
        assert (await app.state.documents.get(letter.id, alice.id)).filename == "alice's letter.txt"
        assert (await app.state.cases.get(case.id, alice.id)).title == "alice's private appeal"
        assert [w.id for w in await app.state.webhooks.list(alice.id)] == [webhook.id]
    await client.post(f"/runs/{run.id}/cancel", headers=alice.headers)  # settles the run: its stream ends
    # Deletes last, the deepest paths first (a thread's run before the thread).
    for method, path, operation in sorted(operations, key=lambda op: (op[0] == "DELETE", -op[1].count("/"))):
        url = path.format(**ids)
        response = await client.request(method, url, headers=alice.headers, json=request_body(operation, document))
        assert response.status_code != 404, (method, path, response.text)
