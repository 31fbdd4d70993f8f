"""PersonalContextStore on the real database: the profile, the documents of a conversation and whether
there is anything to search, read in one statement."""

from __future__ import annotations

import asyncpg

from db.conversations import ConversationService
from db.documents import DocumentService
from db.personal import PersonalContextStore
from db.profiles import ProfileService
from tests.db.test_documents import KEY, new_document
from tests.utils import pdfs
from tests.utils.factories import insert_user


async def test_a_person_with_nothing_saved_has_an_empty_context_and_nothing_to_search(pool: asyncpg.Pool) -> None:
    store = PersonalContextStore(pool)
    user = await insert_user(pool)
    conversation = await ConversationService(pool).create(user)
    assert await store.known(user_id=str(user), conversation_id=str(conversation.id)) == {
        "profile": {}, "documents": [], "searchable": False}
    await ProfileService(pool).put(user, {"plan_type": "marketplace", "state": "TX"})
    assert await store.known(user_id=str(user), conversation_id=None, every_document=True) == {
        "profile": {"plan_type": "marketplace", "state": "TX"}, "documents": [], "searchable": False}
    # A thread that is not a conversation (the command line's) has no documents either.
    assert await store.known(user_id="cli", conversation_id="cli") == {"profile": {}, "documents": [],
                                                                       "searchable": False}


async def test_the_documents_of_a_conversation_come_with_the_profile_newest_first(pool: asyncpg.Pool) -> None:
    store, documents, conversations = PersonalContextStore(pool), DocumentService(pool, KEY), ConversationService(pool)
    user, stranger = await insert_user(pool), await insert_user(pool)
    here, elsewhere = await conversations.create(user), await conversations.create(user)
    letter, _ = await documents.store(user, new_document(pdfs.denial_letter_pdf(pdfs.Letter())),
                                      conversation_id=here.id)
    other, _ = await documents.store(user, new_document(pdfs.explanation_of_benefits_pdf()),
                                     conversation_id=elsewhere.id)
    account, _ = await documents.store(user, new_document(pdfs.summary_of_benefits_pdf()))
    theirs_only, _ = await documents.store(stranger, new_document(pdfs.denial_letter_pdf(pdfs.Letter())))
    await ProfileService(pool).put(user, {"insurer": "Acme Health", "renewal_month": 1})

    known = await store.known(user_id=str(user), conversation_id=str(here.id))
    assert known["profile"] == {"insurer": "Acme Health", "renewal_month": 1}
    assert known["searchable"] is True
    assert [(d["id"], d["attached"], d["standalone"]) for d in known["documents"]] == [
        (str(account.id), False, True), (str(letter.id), True, False)]
    assert known["documents"][1]["facts"]["service"] == "MRI of the lumbar spine"
    assert set(known["documents"][0]) == {"id", "kind", "filename", "pages", "facts", "standalone", "attached"}

    every = await store.known(user_id=str(user), conversation_id=str(here.id), every_document=True)
    assert [d["id"] for d in every["documents"]] == [str(account.id), str(other.id), str(letter.id)]
    # The stranger's documents never show, and their own context has no profile.
    theirs = await store.known(user_id=str(stranger), conversation_id=str(here.id), every_document=True)
    assert theirs["profile"] == {} and [d["id"] for d in theirs["documents"]] == [str(theirs_only.id)]
