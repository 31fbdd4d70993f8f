"""Structured outputs of the navigator and strategy agents (pydantic schemas).

With `LLM_PROVIDER=openai` these are the JSON schemas the model must fill
(`with_structured_output`); the offline model produces the same shapes.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from agents.state import Intent

RiskKind = Literal["none", "not_breathing", "heart_attack", "stroke", "bleeding", "pregnancy", "overdose", "medical",
                   "violence", "suicidal", "self_harm"]


class RiskJudgement(BaseModel):
    """A model's reading of one message for danger now; added to the rules' reading, never instead of it."""

    urgent: bool = Field(description="true when someone may be in danger now: a medical emergency, poisoning or "
                                     "overdose, suicidal thoughts (also said indirectly), self-harm, violence at home")
    kind: RiskKind = Field(description="the kind of danger, or none")
    reason: str = Field(default="", description="a few words on why")


class Facts(BaseModel):
    """Facts that change the answer; unknown ones stay null/empty."""

    plan_type: str | None = Field(
        default=None,
        description="one of employer, marketplace, medicare, medicaid, chip, tricare, va, uninsured, or null")
    service: str | None = Field(default=None, description="the medical service or drug the question is about")
    state: str | None = Field(default=None, description="US state as a two-letter code")
    denial_date: str | None = Field(default=None, description="when the denial notice arrived, as the person said it")
    dates: list[str] = Field(default_factory=list, description="other dates mentioned, as written")
    amounts: list[str] = Field(default_factory=list, description="money amounts mentioned, e.g. $1,200")


class NavigatorAnalysis(BaseModel):
    """The navigator's reading of the question."""

    intent: Intent
    confidence: float = Field(ge=0, le=1)
    facts: Facts
    search_query: str = Field(description="keywords to search the knowledge base with")


class StrategyPlan(BaseModel):
    """An ordered plan the person can follow."""

    short_answer: str = Field(description="one or two sentences answering the question directly")
    steps: list[str] = Field(description="ordered actions, most important first")
    contacts: list[str] = Field(description="who to contact, with phone or website when known")
    documents: list[str] = Field(description="documents to gather")
    deadlines: list[str] = Field(description="deadlines that apply, with the rule they come from")
    if_step_fails: list[str] = Field(description="what to do if a step fails")
