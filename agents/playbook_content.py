"""Each intent's general plan, written for the person's kind of plan.

Used when the question has no narrower topic, and as the steps that follow a
topic's own. `says` names the rules the short answer already states, so the
deadlines do not repeat them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agents.deadlines import PLAN_LABELS
from agents.vocabulary import STATE_MARKETPLACES, STATE_NAMES, marketplace_for

EBSA = "EBSA (U.S. Department of Labor): askebsa.dol.gov, 1-866-444-3272"
MEDICARE_LINE = "1-800-MEDICARE (1-800-633-4227)"
SHIP = "Your State Health Insurance Assistance Program (SHIP): shiphelp.org, free counselling"
CONSUMER_HELP = "Your state insurance department or consumer assistance program (free help with appeals)"


@dataclass(frozen=True)
class Base:
    short: str
    steps: tuple[str, ...]
    contacts: tuple[str, ...]
    documents: tuple[str, ...]
    rules: tuple[str, ...]
    if_step_fails: tuple[str, ...]
    says: tuple[str, ...] = ()


def _what(facts: dict[str, Any], default: str = "the service") -> str:
    return str(facts.get("drug") or facts.get("service") or default)


def _insurer(facts: dict[str, Any], default: str) -> str:
    return str(facts.get("insurer") or default)


def appeal(facts: dict[str, Any]) -> Base:
    plan, detail = facts.get("plan_type"), facts.get("plan_detail")
    what = _what(facts)
    gather = ("The denial notice or explanation of benefits", "Your insurance card and claim number",
              "Your doctor's letter of medical necessity and the records behind it", "Notes of every call (date, name)")
    first_steps = ("Read the denial notice: note the exact reason, the claim number and the appeal instructions.",
                   f"Ask your doctor for a letter of medical necessity for {what} and the records that support it.")
    if plan == "medicare":
        kinds = {"original_medicare": "Original Medicare", "medicare_advantage": "your Medicare Advantage plan",
                 "part_d": "your Part D plan"}
        who = kinds.get(str(detail), "Medicare")
        return Base(
            short=f"You can appeal {who}'s decision on {what}: Original Medicare appeals start with a "
                  "redetermination (120 days from the Medicare Summary Notice), Medicare Advantage and Part D plans "
                  "with a request to the plan (65 days from its decision).",
            steps=first_steps + ("File the first-level appeal the way the notice says, with the doctor's letter.",
                                 "If waiting could seriously harm your health, ask for a fast appeal: decided "
                                 "within 72 hours.",
                                 "If the first level says no, the decision letter explains the next level (an "
                                 "independent reviewer, then a hearing) and its deadline."),
            contacts=(f"Your Medicare plan, or {MEDICARE_LINE}", SHIP),
            documents=gather, rules=("medicare_redetermination", "ma_reconsideration"),
            if_step_fails=("If the plan misses a decision deadline, ask 1-800-MEDICARE how to move the appeal on.",
                           "Free help with the appeal: your SHIP counsellor."),
            says=("medicare_redetermination", "ma_reconsideration"))
    if plan in ("medicaid", "chip"):
        return Base(
            short=f"You can appeal the {PLAN_LABELS[plan]} denial of {what}: first to your plan (within 60 days of "
                  "the notice), then, if it says no again, at a state fair hearing.",
            steps=first_steps + ("Appeal to the plan in writing or by phone as the notice says; ask to keep the "
                                 "service during the appeal.",
                                 "If the plan upholds the denial, request a state fair hearing.",
                                 "Ask for a fast (expedited) appeal if waiting could seriously harm your health."),
            contacts=("Your Medicaid plan's member services (number on your card)",
                      "Your state Medicaid agency or ombudsman; local legal aid (free)"),
            documents=gather, rules=("medicaid_continue_benefits", "fair_hearing"),
            if_step_fails=("If the plan misses its decision deadline, you can go straight to a state fair hearing.",
                           "Free help: local legal aid or your state's Medicaid ombudsman."),
            says=("medicaid_plan_appeal",))
    if plan == "tricare":
        return Base(
            short=f"You can ask TRICARE to reconsider its denial of {what}: request reconsideration in writing "
                  "within 90 days of the date on the decision.",
            steps=first_steps + ("Send the reconsideration request to the address on the decision, with the "
                                 "doctor's letter.",),
            contacts=("Your TRICARE regional contractor (number on the decision)",
                      "The beneficiary counseling and assistance coordinator (BCAC) at a military hospital"),
            documents=gather, rules=(), says=("tricare_reconsideration",),
            if_step_fails=("If reconsideration says no, the decision explains the next level of appeal.",))
    label = PLAN_LABELS.get(str(plan), "plan")
    self_funded = detail == "self_funded"
    contacts = ["The plan's appeals department (address on the denial letter; member services on your card)"]
    contacts.append(EBSA if plan == "employer" or self_funded else CONSUMER_HELP)
    return Base(
        short=f"You can appeal the denial of {what}: first an internal appeal to your {label}, then, if it says no "
              "again, an external review by an independent reviewer whose decision the plan must follow.",
        steps=first_steps + (f"File the internal appeal with your {label} in writing, with your claim number.",
                             "If waiting could seriously harm your health, ask for an expedited (urgent) appeal.",
                             "If the internal appeal is denied, request an external review."),
        contacts=tuple(contacts), documents=gather,
        rules=("internal_appeal", "external_review", "appeal_decision"),
        if_step_fails=("If the plan misses its decision deadlines or breaks the appeal rules, you can usually go "
                       "straight to external review.",
                       "Complain to your state insurance department (to the Department of Labor for a self-funded "
                       "employer plan)" + (": your plan is self-funded, so the Department of Labor." if self_funded
                                           else ".")))


def prior_authorization(facts: dict[str, Any]) -> Base:
    what = _what(facts)
    insurer = _insurer(facts, "the plan")
    return Base(
        short=f"Get prior authorization for {what} before the appointment: your doctor's office usually sends the "
              f"request to {insurer} with your records.",
        steps=(f"Confirm with {insurer} whether {what} needs prior authorization (and whether the provider and "
               "facility are in network).",
               "Ask the doctor's office to submit the request with your records and a letter of medical necessity.",
               "Get the reference number and follow up if there is no decision in time; ask for an expedited "
               "review if waiting could harm your health.",
               "Keep the approval letter; check its dates and the approved provider and facility.",
               "If it is denied, ask your doctor for a peer-to-peer review with the plan's doctor and appeal."),
        contacts=("Your doctor's office (prior authorization staff)",
                  f"{insurer[0].upper() + insurer[1:]}'s utilization management or member services line"),
        documents=("Insurance card", "Doctor's order and letter of medical necessity", "Relevant records"),
        rules=("pa_urgent", "pa_standard_7", "pa_standard_15"),
        if_step_fails=("If denied, file an appeal (internal appeal, then external review).",))


def coverage_check(facts: dict[str, Any]) -> Base:
    what = _what(facts)
    label = PLAN_LABELS.get(str(facts.get("plan_type")), "your plan")
    insurer = _insurer(facts, "the plan")
    state = STATE_NAMES.get(str(facts.get("state")), "")
    where = f" and {state}'s rules" if state else ""
    return Base(
        short=f"Whether {what} is covered depends on {label}'s benefits{where}; confirm it with {insurer} in writing "
              "before you schedule.",
        steps=("Find the summary of benefits and coverage (SBC) or the plan document and look up the service.",
               f"Call member services about {what} (with the procedure or drug code): ask if it is covered, whether "
               "prior authorization or a referral is needed, and what you will pay.",
               "Confirm the provider and facility are in network.",
               "Write down the date, the representative's name and a reference number."),
        contacts=("Member services (number on your insurance card)", "Your doctor's billing office"),
        documents=("Insurance card", "Summary of benefits and coverage", "The procedure or drug name/code"),
        rules=(),
        if_step_fails=("If the plan says it is not covered, ask for the denial in writing and appeal it.",
                       "Check whether it is preventive care or an essential health benefit that must be covered."))


def find_provider(facts: dict[str, Any]) -> Base:
    insurer = _insurer(facts, "your plan")
    return Base(
        short=f"Use {insurer}'s online provider directory, then call the office to confirm it is in network for "
              "your exact plan and accepting new patients.",
        steps=(f"Search {insurer}'s provider directory by specialty and ZIP code (log in so it shows your exact "
               "plan's network).",
               "Call the office: confirm in-network status for your specific plan and that they take new patients.",
               "On an HMO or POS plan, get a referral from your primary care doctor first.",
               "Keep a record of what the plan and the office told you."),
        contacts=("Member services (number on your card)", "The provider's office"),
        documents=("Insurance card (plan name and member ID)",), rules=(),
        if_step_fails=("If no in-network provider is available within a reasonable distance or wait, ask the plan "
                       "for a network (gap) exception.",
                       "If you relied on a wrong directory listing, you owe only in-network cost sharing."))


def cost_estimate(facts: dict[str, Any]) -> Base:
    what = _what(facts)
    return Base(
        short=f"Your cost for {what} depends on the plan's allowed amount, your deductible, your copay or "
              "coinsurance and your out-of-pocket maximum; ask for an estimate in advance.",
        steps=("Get the procedure code and the provider's expected charges.",
               "Ask the plan (or its cost estimator tool) for the allowed amount and your share.",
               "Check how much of the deductible and out-of-pocket maximum you have met (latest explanation of "
               "benefits or the plan's website).",
               "If uninsured or paying yourself, ask the provider for a good faith estimate in writing."),
        contacts=("Provider's billing office", "Member services (number on your card)"),
        documents=("Insurance card", "Latest explanation of benefits", "Good faith estimate (if self-pay)"),
        rules=("oop_limit",),
        if_step_fails=("If the final bill is $400 or more above a good faith estimate, use the patient-provider "
                       "dispute process within 120 days.", "Ask about financial assistance or a payment plan."))


def enrollment(facts: dict[str, Any]) -> Base:
    plan = facts.get("plan_type")
    if plan in ("medicaid", "chip"):
        return Base(
            short=f"{PLAN_LABELS[plan]} takes applications and changes any time of year, through your state Medicaid "
                  "agency (or HealthCare.gov, which passes them on).",
            steps=("Call or log in to your state Medicaid agency's account; report changes (income, address, a "
                   "birth) within the time the notices give.",
                   "Answer every letter from the agency by the date it gives."),
            contacts=("Your state Medicaid agency", "Free local help: localhelp.healthcare.gov"),
            documents=("Proof of income", "Proof of address", "The letters you received"),
            rules=(), if_step_fails=("If the state ends or denies coverage and you think it is wrong, ask for a fair "
                                     "hearing (the notice gives the deadline).",),
            says=("medicaid_any_time",))
    leaving = facts.get("event") in ("job_loss", "coverage_loss", "turning_26", "divorce", "move", "retirement",
                                     "hours_cut")
    if (plan == "employer" or facts.get("plan_through") in ("own_job", "spouse")) and not leaving:
        return Base(
            short="An employer plan lets you enroll or add family at its yearly open enrollment, or within at least "
                  "30 days of a qualifying event (a birth, adoption, marriage, or loss of other coverage).",
            steps=("Tell HR or the benefits office (or the plan) about the event and ask for a special enrollment.",
                   "Send the enrollment form with proof of the event (birth certificate, marriage certificate, or a "
                   "letter saying when other coverage ended).",
                   "Check the new premium on your next paycheck and the new member cards."),
            contacts=("Your employer's HR or benefits office", "The plan's member services (number on your card)"),
            documents=("Proof of the event", "Social Security numbers of the people you add (on the form only)"),
            rules=(), if_step_fails=("If the employer refuses a special enrollment you are owed, contact EBSA "
                                     "(askebsa.dol.gov, 1-866-444-3272).",),
            says=("sep_employer",))
    where = marketplace_for(facts.get("state"))
    state = STATE_NAMES.get(str(facts.get("state")))
    apply = f"Apply at {where}, {state}'s marketplace; it also checks Medicaid and CHIP." \
        if state and facts.get("state") in STATE_MARKETPLACES \
        else "Apply at HealthCare.gov (or your state's marketplace); it also checks Medicaid and CHIP."
    return Base(
        short="You can enroll during open enrollment (November 1 to January 15 on HealthCare.gov), or within 60 days "
              "of a qualifying life event; Medicaid and CHIP accept applications any time.",
        steps=("Check whether a life event (losing coverage, a move, marriage, a baby) gives you a special "
               "enrollment period.",
               apply,
               "Compare plans by total cost, network and drug list; estimate your income for the savings.",
               "Pay the first premium to start coverage."),
        contacts=(where, "Free local help: localhelp.healthcare.gov",
                  "Your state Medicaid agency"),
        documents=("Proof of income", "Social Security numbers (only on the official application)",
                   "Proof of the life event (for example a letter saying when coverage ends)"),
        rules=(),
        if_step_fails=("If the marketplace denies a special enrollment period, you can appeal that decision.",
                       "Check Medicaid and CHIP, which have no deadline."),
        says=("open_enrollment", "sep_marketplace", "medicaid_any_time"))


def billing_dispute(facts: dict[str, Any]) -> Base:
    return Base(
        short="Don't pay a bill you think is wrong yet: get it itemized, compare it with your explanation of "
              "benefits, and dispute it in writing; surprise bills are limited by the No Surprises Act.",
        steps=("Ask the provider for an itemized bill and compare it with the plan's explanation of benefits.",
               "Call the billing office, point out the errors, and ask them to hold the account while it is reviewed.",
               "Follow up in writing and keep records; ask the plan to reprocess or appeal if it paid wrongly."),
        contacts=("Provider's billing office", "Member services (number on your card)",
                  "No Surprises Help Desk: 1-800-985-3059"),
        documents=("The bill and itemized statement", "Explanation of benefits", "Good faith estimate, if any",
                   "Notes of calls"),
        rules=("financial_assistance",),
        if_step_fails=("Complain to the No Surprises Help Desk or your state insurance department.",
                       "Apply for the hospital's financial assistance."))


def prescription_drugs(facts: dict[str, Any]) -> Base:
    drug = str(facts.get("drug") or "the drug")
    medicare = facts.get("plan_type") == "medicare"
    exception = "a coverage determination (an exception) from your Part D plan" if medicare else \
        "a formulary exception"
    return Base(
        short=f"Check the plan's drug list for {drug}; if it is not covered or restricted, your prescriber can ask "
              "for an exception or prior authorization.",
        steps=(f"Look up {drug} in the plan's formulary (drug list): note its tier and any prior authorization or "
               "step therapy rule.",
               "Ask your prescriber whether a covered alternative would work.",
               f"If not, ask the prescriber to request {exception}, with a supporting statement.",
               "Ask for an expedited decision if waiting would harm your health."),
        contacts=("Your prescriber", "Your pharmacy", "The plan's pharmacy benefit line (number on your card)"),
        documents=("Prescription details", "Prescriber's supporting statement", "Records of drugs tried"),
        rules=("formulary_exception", "part_d_redetermination", "part_d_cap"),
        if_step_fails=("Appeal the denial" + (" (Part D: redetermination within 65 days)" if medicare else
                                              ", then ask for an external review") + ".",
                       "Ask the manufacturer about assistance programs."))


def continuation_coverage(facts: dict[str, Any]) -> Base:
    return Base(
        short="You can usually keep your employer plan through COBRA, generally for 18 months at up to 102% of the "
              "full premium, or switch to a Marketplace plan within 60 days of losing coverage.",
        steps=("Watch for the COBRA election notice; ask HR if it has not arrived.",
               "Compare COBRA's full premium with Marketplace plans and their income-based savings.",
               "Decide before the election deadline; COBRA is retroactive, so coverage has no gap once you elect "
               "and pay."),
        contacts=("Your former employer's HR or the COBRA administrator", "HealthCare.gov or 1-800-318-2596", EBSA),
        documents=("COBRA election notice", "Proof of the date coverage ends", "Income estimate for Marketplace "
                                                                              "savings"),
        rules=("cobra_election", "cobra_premium"),
        if_step_fails=("If no COBRA notice arrives (employers with 20 or more employees), contact EBSA.",
                       "For small employers, ask about state continuation (mini-COBRA)."),
        says=("cobra_duration", "sep_marketplace"))


def other(facts: dict[str, Any]) -> Base:
    return Base(
        short="I can help with coverage, prior authorization, denials and appeals, bills, costs, enrollment, drugs "
              "and keeping coverage after a job ends; tell me what happened and I'll give you the steps.",
        steps=("Find out which kind of coverage you have (employer, Marketplace, Medicare, Medicaid).",
               "Call the member services number on your card with your question.",
               "Tell me more about your situation (the kind of plan, what happened and when) for specific steps."),
        contacts=("Member services (number on your card)", "Free local help: localhelp.healthcare.gov"),
        documents=("Insurance card", "Any letters or bills you received"), rules=(),
        if_step_fails=("Contact your state insurance department or consumer assistance program.",))


BASE: dict[str, Callable[[dict[str, Any]], Base]] = {
    "claim_denial_appeal": appeal, "prior_authorization": prior_authorization, "coverage_check": coverage_check,
    "find_provider": find_provider, "cost_estimate": cost_estimate, "enrollment": enrollment,
    "billing_dispute": billing_dispute, "prescription_drugs": prescription_drugs,
    "continuation_coverage": continuation_coverage, "other": other,
}
