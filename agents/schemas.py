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
    """Facts that change the answer (see agents.facts.FACT_KEYS); only what is stated, the rest null."""

    plan_type: str | None = Field(
        default=None,
        description="one of employer, marketplace, medicare, medicaid, chip, tricare, va, uninsured, or null")
    plan_detail: str | None = Field(default=None, description="original_medicare, medicare_advantage, part_d, "
                                                              "self_funded, hmo, ppo, epo, pos, hdhp, or null")
    plan_through: str | None = Field(default=None, description="own_job, spouse, parent, former_employer, "
                                                               "self_bought, or null")
    insurer: str | None = Field(default=None, description="the insurer's name (Aetna, Blue Cross...)")
    state: str | None = Field(default=None, description="US state as a two-letter code")
    employer_size: int | None = Field(default=None, description="number of employees of the employer")
    plan_name: str | None = Field(default=None, description="the plan's name, as the insurer writes it")
    renewal_month: int | None = Field(default=None, description="the month the plan renews, 1-12")
    preferred_language: str | None = Field(default=None, description="the language the person prefers, as a tag "
                                                                     "(en, es)")
    service: str | None = Field(default=None, description="the medical service, as named (knee surgery, MRI)")
    drug: str | None = Field(default=None, description="the drug, exactly as named (Tresiba, not insulin)")
    age: int | None = Field(default=None, description="the person's (or patient's) age, if said")
    denial_date: str | None = Field(default=None, description="when the denial arrived (or the date on it), as said "
                                                              "or YYYY-MM-DD")
    notice_date: str | None = Field(default=None, description="when another notice arrived (COBRA, Medicaid)")
    event: str | None = Field(default=None, description="birth, adoption, marriage, divorce, move, job_loss, "
                                                        "coverage_loss, turning_26, turning_65, retirement, "
                                                        "hours_cut, medicaid_loss, or null")
    event_date: str | None = Field(default=None, description="when the life event happened or will happen")
    coverage_end_date: str | None = Field(default=None, description="when coverage ended or will end")
    due_date: str | None = Field(default=None, description="a deadline the person was given")
    appeal_date: str | None = Field(default=None, description="when the person filed an appeal")
    request_date: str | None = Field(default=None, description="when a prior authorization request was sent")
    waiting_days: int | None = Field(default=None, description="days the person has been waiting for a decision")
    appeal_deadline: str | None = Field(default=None, description="the date an appeal must be filed by, as a "
                                                                  "letter states it, YYYY-MM-DD")
    claim_number: str | None = Field(default=None, description="the claim or reference number")
    denial_reason: str | None = Field(default=None, description="the reason the denial gives")
    appeal_address: str | None = Field(default=None, description="where to send the appeal (address or fax)")
    dates: list[str] = Field(default_factory=list, description="other dates mentioned, as written")
    amounts: list[str] = Field(default_factory=list, description="money amounts mentioned, e.g. $1,200")
    price: float | None = Field(default=None, description="the service's price or allowed amount, in dollars")
    bill_amount: float | None = Field(default=None, description="the amount billed")
    estimate_amount: float | None = Field(default=None, description="the good faith estimate or quote")
    eob_owed: float | None = Field(default=None, description="what the explanation of benefits says is owed")
    plan_paid: float | None = Field(default=None, description="what the plan paid (explanation of benefits)")
    deductible: float | None = Field(default=None, description="the plan's deductible")
    deductible_met: float | None = Field(default=None, description="how much of the deductible is paid")
    coinsurance_pct: float | None = Field(default=None, description="coinsurance in percent")
    copay: float | None = Field(default=None, description="the copay")
    visits: int | None = Field(default=None, description="number of visits or fills")
    oop_max: float | None = Field(default=None, description="the out-of-pocket maximum")
    oop_met: float | None = Field(default=None, description="paid toward the out-of-pocket maximum")
    income_monthly: float | None = Field(default=None, description="household income per month")
    urgent: bool | None = Field(default=None, description="true if waiting could seriously harm the person")


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
