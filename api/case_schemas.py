"""Request and response bodies of cases, notifications and webhooks (the rest: api/schemas.py)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from api.schemas import (
    NOT_BLANK_NO_NUL,
    MessageText,
    PlanType,
    ProfileText,
    StateCode,
    StrictModel,
    Title,
    masked_within,
)

Day = date  # a field named `date` cannot be annotated with `date` itself
CaseKind = Literal["appeal", "prior_authorization", "billing_dispute"]
Stage = Literal["gathering", "drafted", "filed", "waiting_for_decision", "decided", "external_review_filed", "closed"]
Reference = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._/#-]*$",
                                 description="as printed on the letter or card, e.g. CLM-2026-0042117")]
LongText = Annotated[str, Field(min_length=1, max_length=1000, pattern=NOT_BLANK_NO_NUL), masked_within(1000)]
# An http(s) URL with a host name or IP address, an optional port (1-65535) and printable ASCII after it.
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PORT = r"(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})"
WEBHOOK_URL_PATTERN = rf"^https?://({_LABEL}(\.{_LABEL})*|\[[0-9A-Fa-f:.]{{2,45}}\])(:{_PORT})?([/?][!-~]*)?$"
WebhookUrl = Annotated[str, Field(min_length=10, max_length=2000, pattern=WEBHOOK_URL_PATTERN,
                                  description="where notifications are POSTed (http or https)")]


class CaseFacts(StrictModel):
    """What the case is about; anything left out is read from the conversation, the profile and the
    documents when they say it."""

    service: ProfileText | None = Field(default=None, description="the service, drug or bill denied or disputed")
    denial_date: date | None = Field(default=None, description="when the denial notice arrived (or its date)")
    plan_type: PlanType | None = None
    insurer: ProfileText | None = None
    plan_name: ProfileText | None = None
    claim_number: Reference | None = None
    member_name: ProfileText | None = Field(default=None, description="the name the letter is signed with")
    member_id: Reference | None = None
    state: StateCode | None = None
    provider: ProfileText | None = Field(default=None, description="who billed (billing disputes)")
    reason: LongText | None = Field(default=None, description="the reason the denial gives, in its own words")
    urgent: bool | None = Field(default=None, description="waiting could seriously harm your health: 72-hour "
                                                          "decisions")
    care_received: bool | None = Field(default=None, description="the care was already received (the plan has 60 "
                                                                 "days to decide an appeal instead of 30)")

    def given(self) -> dict[str, Any]:
        """The facts stated, as JSON (dates as ISO text)."""
        return {key: value for key, value in self.model_dump(mode="json").items() if value is not None}


class CaseCreate(StrictModel):
    kind: CaseKind | None = Field(default=None, description="left out: from the conversation's topic, else appeal")
    conversation_id: uuid.UUID | None = Field(default=None, description="the conversation it comes from: its facts "
                                                                        "and documents are read")
    title: Title | None = None
    facts: CaseFacts = Field(default_factory=CaseFacts)
    document_ids: list[uuid.UUID] = Field(default_factory=list, max_length=10,
                                          description="documents this case is about (a denial letter...)")


class FiledEvent(StrictModel):
    type: Literal["filed"]
    date: Day | None = Field(default=None, description="when you filed (default: today)")
    method: Literal["mail", "fax", "online", "phone", "email", "in_person"] | None = None


class DecisionEvent(StrictModel):
    type: Literal["decision"]
    outcome: Literal["approved", "denied", "partially_approved"]
    date: Day | None = Field(default=None, description="the decision's date (default: its letter's, or today)")
    document_id: uuid.UUID | None = Field(default=None, description="the decision letter, uploaded to /documents")


class ClosedEvent(StrictModel):
    type: Literal["closed"]
    reason: ProfileText | None = None


class FactsEvent(StrictModel):
    type: Literal["facts"]
    facts: CaseFacts


class DocumentEvent(StrictModel):
    type: Literal["document"]
    document_id: uuid.UUID


class NoteEvent(StrictModel):
    type: Literal["note"]
    text: MessageText


CaseEventIn = Annotated[FiledEvent | DecisionEvent | ClosedEvent | FactsEvent | DocumentEvent | NoteEvent,
                        Field(discriminator="type")]


class DeadlineOut(BaseModel):
    name: str
    label: str
    due: date
    due_at: datetime | None = Field(description="the instant, for deadlines counted in hours")
    rule: str = Field(description="where the date comes from")
    status: Literal["open", "passed", "met", "late"]
    level: int


class NextActionOut(BaseModel):
    action: Literal["provide_facts", "file", "wait", "none"]
    text: str
    due: date | None
    missing: list[str]


class TimerOut(BaseModel):
    key: str
    purpose: str
    due_at: datetime
    status: Literal["pending", "fired", "cancelled"]
    fired_at: datetime | None


class TimelineEntryOut(BaseModel):
    type: str
    at: datetime
    text: str
    data: dict[str, Any]


class LetterOut(BaseModel):
    title: str
    level: int
    drafted_at: datetime


class CaseSummaryOut(BaseModel):
    id: uuid.UUID
    kind: CaseKind
    title: str
    stage: Stage
    level_label: str | None = Field(description="the filing at hand, e.g. internal appeal")
    next_action: NextActionOut | None
    next_deadline: DeadlineOut | None
    processing: bool = Field(description="an event or timer is being processed; the view will change")
    source_conversation_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


class CaseOut(CaseSummaryOut):
    facts: dict[str, Any]
    levels: list[str] = Field(description="the filings of this case in order (each denial opens the next)")
    deadlines: list[DeadlineOut]
    timers: list[TimerOut]
    timeline: list[TimelineEntryOut]
    letter: LetterOut | None = Field(description="the drafted letter (GET /cases/{id}/letter), if any")
    closed: dict[str, Any] | None


class CaseOpenedOut(CaseOut):
    run_id: uuid.UUID | None = Field(description="the run processing the opening (GET /runs/{id}/events)")


class CasePage(BaseModel):
    items: list[CaseSummaryOut]
    next_cursor: str | None


class CaseEventOut(BaseModel):
    id: int
    case_id: uuid.UUID
    type: str
    data: dict[str, Any]
    occurred_at: datetime
    run_id: uuid.UUID | None = Field(description="the run bringing it to the case (GET /runs/{id}/events)")
    case: CaseOut | None = Field(default=None, description="the case once the run settled (with ?wait=)")


class DeliveryOut(BaseModel):
    channel: Literal["webhook", "email"]
    webhook_id: uuid.UUID | None
    status: Literal["pending", "sending", "delivered", "dead", "skipped"]
    attempts: int
    last_error: str | None = Field(description="why the last attempt failed (or why it was skipped)")
    next_attempt_at: datetime | None
    delivered_at: datetime | None


class NotificationOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID | None
    kind: str
    title: str
    body: str
    data: dict[str, Any]
    idempotency_key: str = Field(description="the same on every delivery of this notification")
    created_at: datetime
    read: bool
    read_at: datetime | None
    deliveries: list[DeliveryOut]


class NotificationPageOut(BaseModel):
    items: list[NotificationOut]
    next_cursor: str | None
    unread: int


class NotificationUpdate(StrictModel):
    read: bool


class MarkedRead(BaseModel):
    updated: int


class WebhookCreate(StrictModel):
    url: WebhookUrl


class WebhookOut(BaseModel):
    id: uuid.UUID
    url: str
    created_at: datetime
    deliveries: dict[str, int] = Field(description="deliveries to it by status (delivered, pending, dead...)")


class WebhookCreatedOut(WebhookOut):
    secret: str = Field(description="the signing secret: shown only now, keep it")
