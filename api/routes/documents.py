"""The caller's documents: upload (PDF or plain text), list, read facts, download, delete.

The type is read from the bytes, not from the file name or Content-Type. Files are
encrypted at rest; deleting one deletes its bytes, text, facts and passages. Anything not
the caller's is 404.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, HTTPException, Query, Response, UploadFile, status

from api.deps import Conversations, CurrentUser, Documents, Intake, SettingsDep
from api.errors import AUTH_RESPONSES, OWNED_RESPONSES
from api.schemas import DocumentKind, DocumentOut, DocumentPage
from db.documents import Document
from db.paging import CURSOR_PATTERN, MAX_PAGE_SIZE

router = APIRouter(prefix="/documents", tags=["documents"], responses=AUTH_RESPONSES)

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]
UPLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": DocumentOut, "description": "The same file was uploaded before: the stored document (now "
                                               "also attached to the conversation, if one is given)"},
    404: {"description": "The conversation is not found, or not yours"},
    413: {"description": "The file is larger than DOCUMENT_MAX_BYTES"},
    415: {"description": "Neither a PDF nor plain text (an image, an archive...)"},
    422: {"description": "Empty, encrypted, image-only, damaged or decompression-bomb PDF; the detail says what "
                         "to do"},
}
FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The file as uploaded",
          "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}},
                      "text/plain": {"schema": {"type": "string"}}}},
    500: {"description": "The file cannot be decrypted with the server's DOCUMENT_ENCRYPTION_KEY"},
}


def document_out(document: Document) -> DocumentOut:
    return DocumentOut.model_validate(document, from_attributes=True)


def content_disposition(filename: str) -> str:
    fallback = "".join(ch if ch.isascii() and ch.isprintable() and ch not in '"\\;' else "_" for ch in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@router.post("", status_code=status.HTTP_201_CREATED, response_model=DocumentOut,
             responses=UPLOAD_RESPONSES)
async def upload_document(
    user: CurrentUser, intake: Intake, conversations: Conversations, settings: SettingsDep, response: Response,
    file: Annotated[UploadFile, File(description="a PDF or a plain-text file")],
    kind: Annotated[DocumentKind | None, Form(description="what the document is; read from it when left out")]
    = None,
    conversation_id: Annotated[uuid.UUID | None, Form(description="attach it to this conversation; left out, "
                                                                 "it is kept for every conversation")] = None,
) -> DocumentOut:
    """Upload a document. Its facts (denial date, reason, deadline...; deductible, copays...; amounts billed and
    owed) are read at once and used by the navigator in the conversations it belongs to."""
    limit = settings.document_max_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(413, f"the file is larger than DOCUMENT_MAX_BYTES ({limit} bytes)")
    if conversation_id is not None:
        await conversations.get(conversation_id, user.id)  # 404 before any work
    document, created = await intake.receive(user.id, data, file.filename, kind, conversation_id)
    if not created:
        response.status_code = status.HTTP_200_OK
    return document_out(document)


@router.get("", response_model=DocumentPage,
            responses={404: {"description": "The conversation is not found, or not yours"}})
async def list_documents(
    user: CurrentUser, documents: Documents, conversations: Conversations, settings: SettingsDep,
    limit: Limit = 20, cursor: Annotated[str | None, Query(pattern=CURSOR_PATTERN)] = None,
    conversation_id: Annotated[uuid.UUID | None, Query(description="only the documents attached to this "
                                                                   "conversation")] = None,
) -> DocumentPage:
    """Newest first. Pass `next_cursor` back as `cursor` for the next page. `max_bytes` is the largest file
    `POST /documents` accepts, so a client can say so before it sends one."""
    if conversation_id is not None:
        await conversations.get(conversation_id, user.id)  # 404, like an upload to it
    page = await documents.list_page(user.id, limit=limit, cursor=cursor, conversation_id=conversation_id)
    return DocumentPage(items=[document_out(d) for d in page.items], next_cursor=page.next_cursor,
                        max_bytes=settings.document_max_bytes)


@router.get("/{document_id}", response_model=DocumentOut, responses=OWNED_RESPONSES)
async def get_document(document_id: uuid.UUID, user: CurrentUser, documents: Documents) -> DocumentOut:
    """The document's metadata and the facts read from it."""
    return document_out(await documents.get(document_id, user.id))


@router.get("/{document_id}/file", response_class=Response, responses={**OWNED_RESPONSES, **FILE_RESPONSES})
async def download_document(document_id: uuid.UUID, user: CurrentUser, documents: Documents) -> Response:
    """The file exactly as uploaded (decrypted)."""
    stored = await documents.read_file(document_id, user.id)
    return Response(stored.data, media_type=stored.media_type,
                    headers={"Content-Disposition": content_disposition(stored.filename),
                             "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})


@router.delete("/{document_id}", status_code=status.HTTP_204_NO_CONTENT, responses=OWNED_RESPONSES)
async def delete_document(document_id: uuid.UUID, user: CurrentUser, documents: Documents) -> Response:
    """Delete the document for good: its encrypted bytes, extracted text, facts and search passages."""
    await documents.delete(document_id, user.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
