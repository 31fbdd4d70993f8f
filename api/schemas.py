"""Request and response bodies. Text inputs refuse NUL bytes and text that is
not valid Unicode (lone surrogates) with 422, before anything is hashed or stored."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from agents.guard import mask_sensitive
from agents.limits import MAX_MESSAGE_CHARS
from api.emails import fold_email, normalize_email
from db.runs.model import RunStatus

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256


# JSON Schema can say "no NUL" (PostgreSQL text and jsonb refuse it); lone surrogates
# are refused by `clean_text` (the generators of schema-based fuzzers never produce them).
NO_NUL = r"^[^\x00]*$"
# No controls, spaces, zero-width or direction characters (what a pattern can say; api/emails.py
# also refuses mixed writing systems, which no pattern can).
EMAIL_CHAR = r"[^@\s\x00-\x1f\x7f-\x9f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]"
EMAIL_PATTERN = rf"^{EMAIL_CHAR}+@{EMAIL_CHAR}+$"
# At least one character Python's str.strip() keeps. Regex engines disagree on \s
# (\x1c-\x1f: Python only; \x85: Python and Rust, not ECMAScript), so those are named.
NOT_BLANK_NO_NUL = r"^[^\x00]*[^\x00\s\x1c-\x1f\x85][^\x00]*$"


def clean_text(value: str) -> str:
    """PostgreSQL text and argon2 both need real UTF-8 without NUL."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


def masked_text(value: str) -> str:
    """Clean text with SSNs and card numbers masked: whatever a person writes into a
    conversation is masked here, at the edge, before any table (runs, messages,
    checkpoints, titles) can store it."""
    return mask_sensitive(clean_text(value))


def masked_within(limit: int) -> AfterValidator:
    """`masked_text`, then the length limit again: a mask can be longer than what it hides
    ("123-45-6789" becomes "[SSN REDACTED]"), and the columns check the stored length."""
    def check(value: str) -> str:
        masked = masked_text(value)
        if len(masked) > limit:
            raise ValueError(f"must be at most {limit} characters once card and social security "
                             "numbers are masked")
        return masked
    return AfterValidator(check)


CleanText = Annotated[str, Field(pattern=NO_NUL), AfterValidator(clean_text)]
Password = Annotated[str, Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH, pattern=NO_NUL),
                     AfterValidator(clean_text)]
# One @ with something on each side, normalised (NFKC, lower case) and refused when it holds
# invisible or direction characters or mixes writing systems (api/emails.py). Whether the
# address works is not knowable without sending mail.
Email = Annotated[str, Field(min_length=3, max_length=320, pattern=EMAIL_PATTERN,
                             description="an email address, stored normalised (NFKC, lower case); one account "
                                         "per address however it is spelled"),
                  AfterValidator(clean_text), AfterValidator(normalize_email)]
# Sign-in folds the address the same way but refuses nothing: no account holds a refused one.
LoginEmail = Annotated[str, Field(min_length=1, max_length=320, pattern=NO_NUL), AfterValidator(clean_text),
                       AfterValidator(fold_email)]
Title = Annotated[str, Field(max_length=200, pattern=NO_NUL), masked_within(200)]
NewTitle = Annotated[str, Field(min_length=1, max_length=200, pattern=NOT_BLANK_NO_NUL), masked_within(200)]
MessageText = Annotated[str, Field(min_length=1, max_length=MAX_MESSAGE_CHARS, pattern=NOT_BLANK_NO_NUL),
                        masked_within(MAX_MESSAGE_CHARS)]
MetadataKey = Annotated[str, Field(min_length=1, max_length=100, pattern=NO_NUL), masked_within(100)]
# Finite floats only: Python's json reads NaN, Infinity and 1e999, which jsonb refuses.
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
MetadataValue = Annotated[str, Field(max_length=2000, pattern=NO_NUL), masked_within(2000)] | int \
    | FiniteFloat | bool | None
# Flat on purpose: every value is checkable by the schema, and jsonb refuses NUL anywhere.
# pydantic states key constraints as patternProperties, which do not forbid other keys: say it.
KEY_NAMES = {"propertyNames": {"minLength": 1, "maxLength": 100, "pattern": NO_NUL}}
Metadata = Annotated[dict[MetadataKey, MetadataValue], Field(max_length=50, json_schema_extra=KEY_NAMES)]


def json_within(limit: int) -> AfterValidator:
    """An answer given as named facts is one message too: its JSON text (what the run stores and the
    agents read) obeys the same cap."""
    def check(value: dict[str, Any]) -> dict[str, Any]:
        if len(json.dumps(value)) > limit:
            raise ValueError(f"must be at most {limit} characters as JSON")
        return value
    return AfterValidator(check)


ResumeAnswer = Annotated[str, Field(min_length=1, max_length=MAX_MESSAGE_CHARS, pattern=NOT_BLANK_NO_NUL),
                         masked_within(MAX_MESSAGE_CHARS)] | Annotated[dict[MetadataKey, MetadataValue],
                                                                 Field(min_length=1, max_length=50,
                                                                       json_schema_extra=KEY_NAMES),
                                                                 json_within(MAX_MESSAGE_CHARS)]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- accounts ---------------------------------------------------------------

class RegisterRequest(StrictModel):
    email: Email
    password: Password
    full_name: Title | None = None


class LoginRequest(StrictModel):
    email: LoginEmail
    password: Annotated[str, Field(min_length=1, max_length=MAX_PASSWORD_LENGTH, pattern=NO_NUL),
                        AfterValidator(clean_text)]


class DeleteAccountRequest(StrictModel):
    """The account's password again: deleting everything takes more than a token someone may have copied."""

    password: Annotated[str, Field(min_length=1, max_length=MAX_PASSWORD_LENGTH, pattern=NO_NUL),
                        AfterValidator(clean_text)]


class RefreshRequest(StrictModel):
    refresh_token: Annotated[str, Field(min_length=1, max_length=512, pattern=NO_NUL), AfterValidator(clean_text)]


class LogoutRequest(StrictModel):
    refresh_token: Annotated[str, Field(min_length=1, max_length=512, pattern=NO_NUL),
                             AfterValidator(clean_text)] | None = None


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    refresh_token: str | None = Field(description="null when delivered in the HttpOnly cookie (X-Refresh-Cookie: 1)")


class RegistrationAccepted(BaseModel):
    """The same answer whether or not the address already had an account."""

    email: str = Field(description="the address as it is stored (normalised)")
    confirmation_required: bool = Field(description="true: a link was emailed; the account exists once it is "
                                                    "opened. false: sign in now")
    detail: str


class ConfirmRequest(StrictModel):
    token: Annotated[str, Field(min_length=16, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]


class AuditEventOut(BaseModel):
    id: int
    created_at: datetime
    event: str
    user_id: uuid.UUID | None
    actor_id: uuid.UUID | None
    client_address: str | None
    request_id: str | None
    details: dict[str, Any]


class AuditPageOut(BaseModel):
    items: list[AuditEventOut]
    next_cursor: str | None


class UserOut(BaseModel):
    id: uuid.UUID
    email: str
    full_name: str | None
    role: Literal["user", "admin"]
    is_active: bool
    created_at: datetime


# --- conversations -------------------------------------------------------------

class ConversationCreate(StrictModel):
    title: Title | None = None
    metadata: Metadata = Field(default_factory=dict)


class ConversationUpdate(StrictModel):
    """Rename and/or pin; a field left out stays as it is."""

    title: NewTitle | None = None
    pinned: bool | None = None


class ConversationExtend(StrictModel):
    hours: Annotated[int, Field(ge=1, le=24 * 365)] | None = None


class ConversationOut(BaseModel):
    id: uuid.UUID
    title: str | None
    pinned: bool
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    expires_at: datetime


class ConversationPage(BaseModel):
    items: list[ConversationOut]
    next_cursor: str | None


class MessageOut(BaseModel):
    id: int
    role: Literal["user", "assistant", "system"]
    content: str
    agent_name: str | None
    metadata: dict[str, Any]
    created_at: datetime


class MessagePage(BaseModel):
    items: list[MessageOut]
    next_cursor: str | None


class WorkflowStateOut(BaseModel):
    workflow_type: str
    current_step: str | None
    state_data: dict[str, Any]
    updated_at: datetime


class AgentStateOut(BaseModel):
    agent_name: str
    state_data: dict[str, Any]
    workflow_step: str
    updated_at: datetime


class WorkflowOut(BaseModel):
    conversation_id: uuid.UUID
    workflow: WorkflowStateOut | None
    agents: list[AgentStateOut]


class ConversationExport(BaseModel):
    conversation: ConversationOut
    messages: list[MessageOut]
    workflow: WorkflowOut


# --- runs and chat --------------------------------------------------------------

class RunCreate(StrictModel):
    message: MessageText


class RunResume(StrictModel):
    input: Annotated[ResumeAnswer, Field(description="the answer to the run's question: text, or an object of "
                                                     "named facts (e.g. {\"plan_type\": \"employer\"})")]


class RunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # built straight from db.runs.Run

    id: uuid.UUID
    conversation_id: uuid.UUID
    kind: str
    resumes_run_id: uuid.UUID | None
    status: RunStatus
    input: dict[str, Any]
    output: dict[str, Any] | None
    error: str | None
    attempt: int
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


class RunEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # built straight from db.runs.RunEvent

    id: int
    event: str
    data: dict[str, Any]
    created_at: datetime


class ChatRequest(StrictModel):
    message: MessageText
    conversation_id: uuid.UUID | None = None


class ChatResponse(BaseModel):
    conversation_id: uuid.UUID
    run_id: uuid.UUID
    status: RunStatus
    reply: str | None = None
    question: dict[str, Any] | None = None
    error: str | None = None


# --- operations --------------------------------------------------------------

class HealthOut(BaseModel):
    status: Literal["ok", "unavailable"]
    database: Literal["connected", "unavailable"]


class ModelUsageOut(BaseModel):
    """One UTC day of one model: what its answers cost (tokens only where the provider reports them)."""

    day: date
    provider: str
    model: str
    messages: int
    calls: int
    errors: int
    input_tokens: int
    output_tokens: int
    latency_ms: int


class ExpiredOut(BaseModel):
    """Past their expiry and not deleted yet: the next cleanup pass deletes them (those waiting for a
    run in flight once it settles)."""

    conversations: int
    waiting_for_runs: int
    messages: int
    runs: int
    documents: int


class CleanupOut(BaseModel):
    conversation_ttl_hours: int
    cleanup_interval_seconds: int
    expired: ExpiredOut


class StatsOut(BaseModel):
    users: dict[str, int]
    conversations: int
    messages: int
    runs: dict[str, int]
    analytics_events: dict[str, int]
    cases: int = 0
    timers: dict[str, int] = Field(default_factory=dict, description="durable timers by status")
    deliveries: dict[str, dict[str, int]] = Field(default_factory=dict,
                                                  description="notification deliveries by channel and status")
    model_usage: list[ModelUsageOut] = Field(default_factory=list,
                                             description="per UTC day (newest first), provider and model")
    retention: CleanupOut


class ErrorOut(BaseModel):
    detail: Any


PlanType = Literal["employer", "marketplace", "medicaid", "medicare", "medicare_advantage", "chip", "tricare", "va",
                   "none"]
ProfileText = Annotated[str, Field(min_length=1, max_length=200, pattern=NOT_BLANK_NO_NUL), masked_within(200)]
StateCode = Annotated[str, Field(pattern=r"^[A-Za-z]{2}$", description="two-letter US state code, e.g. OH"),
                      AfterValidator(str.upper)]
Language = Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$",
                                description="language tag, e.g. en, es, zh-Hant")]


class ProfileIn(StrictModel):
    """The whole profile (PUT replaces it: a field left out is cleared)."""

    plan_type: PlanType | None = None
    insurer: ProfileText | None = None
    plan_name: ProfileText | None = None
    state: StateCode | None = None
    plan_through: ProfileText | None = Field(default=None, description="who the plan is through, e.g. "
                                                                      "'my employer' or 'my spouse's employer'")
    renewal_month: int | None = Field(default=None, ge=1, le=12)
    preferred_language: Language | None = None


class ProfileOut(BaseModel):
    plan_type: PlanType | None
    insurer: str | None
    plan_name: str | None
    state: str | None
    plan_through: str | None
    renewal_month: int | None
    preferred_language: str | None
    updated_at: datetime | None


DocumentKind = Literal["summary_of_benefits", "denial_letter", "explanation_of_benefits", "decision_letter",
                       "policy", "bill", "other"]


class DocumentOut(BaseModel):
    id: uuid.UUID
    kind: DocumentKind
    filename: str
    media_type: Literal["application/pdf", "text/plain"]
    size_bytes: int
    pages: int
    facts: dict[str, Any] = Field(description="what was read from the document (kind-specific; `pages` maps a "
                                              "fact to the page it is on)")
    standalone: bool = Field(description="uploaded for the whole account, not only for conversations")
    conversation_ids: list[uuid.UUID]
    created_at: datetime
    updated_at: datetime


class DocumentPage(BaseModel):
    items: list[DocumentOut]
    next_cursor: str | None
    max_bytes: int = Field(description="the largest file POST /documents accepts (DOCUMENT_MAX_BYTES); a larger "
                                       "one gets 413")


# --- API keys -------------------------------------------------------------------

KeyName = Annotated[str, Field(min_length=1, max_length=100, pattern=NOT_BLANK_NO_NUL), AfterValidator(clean_text)]


class ApiKeyCreate(StrictModel):
    name: KeyName


class ApiKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # built straight from db.api_keys.ApiKey

    id: uuid.UUID
    name: str
    prefix: str = Field(description="the key's first characters, to tell keys apart")
    created_at: datetime
    last_used_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="the key itself: shown only in this response; send it as `x-api-key`")
