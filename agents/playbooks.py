"""The offline strategist: ordered plans per intent, adjusted to the facts and
completed with the deadlines of the knowledge documents retrieved."""

from __future__ import annotations

from typing import Any

PLAN_LABELS = {
    "employer": "employer plan", "marketplace": "Marketplace plan", "medicare": "Medicare",
    "medicaid": "Medicaid", "chip": "CHIP", "tricare": "TRICARE", "va": "VA health care",
    "uninsured": "no insurance",
}


def _appeal(facts: dict[str, Any]) -> dict[str, Any]:
    plan = facts.get("plan_type")
    service = facts.get("service") or "the service"
    when = facts.get("denial_date")
    received = f" (the denial arrived {when})" if when else ""
    if plan == "medicare":
        first = (f"File the first-level appeal: for Original Medicare ask for a redetermination within 120 days of "
                 f"receiving the Medicare Summary Notice{received}; for a Medicare Advantage or Part D plan ask the "
                 "plan for a reconsideration/redetermination within 65 days of its decision.")
        review = "If the first level is denied, continue to the next Medicare appeal level (reconsideration by an "\
                 "independent contractor, then a hearing); the decision letter gives the deadline."
        deadlines = ["Original Medicare redetermination: 120 days from receiving the Medicare Summary Notice.",
                     "Medicare Advantage / Part D: 65 days from the plan's decision.",
                     "Urgent (expedited) appeals: decided within 72 hours."]
        contacts = ["Your Medicare plan or 1-800-MEDICARE (1-800-633-4227)",
                    "Your State Health Insurance Assistance Program (SHIP), shiphelp.org, free counselling"]
        fallback = ["If the plan misses a decision deadline, ask 1-800-MEDICARE how to move the appeal to the "
                    "next level.", "Free help with the appeal: your SHIP counsellor."]
    elif plan in ("medicaid", "chip"):
        first = (f"Appeal to your Medicaid/CHIP plan within 60 days of the date on the denial notice{received}; "
                 "ask to keep the service during the appeal if it was stopped.")
        review = "If the plan upholds the denial, request a state fair hearing within 120 days of the plan's decision."
        deadlines = ["Medicaid managed care appeal: 60 days from the notice.",
                     "State fair hearing: 120 days from the plan's appeal decision.",
                     "Urgent appeals: decided within 72 hours."]
        contacts = ["Your Medicaid plan's member services (number on your card)",
                    "Your state Medicaid agency or ombudsman; local legal aid"]
        fallback = ["If the plan misses its decision deadline, you can go straight to a state fair hearing.",
                    "Free help: local legal aid or your state's Medicaid ombudsman."]
    else:
        first = (f"File an internal appeal with your {PLAN_LABELS.get(plan or '', 'plan')} within 180 days of "
                 f"receiving the denial notice{received}, in writing, with your claim number.")
        review = ("If the internal appeal is denied, request an external review by an independent reviewer within "
                  "4 months of the final denial; the insurer must follow the reviewer's decision.")
        deadlines = ["Internal appeal: within 180 days of receiving the denial notice.",
                     "External review: within 4 months after the final internal denial.",
                     "Urgent (expedited) appeals: decided within 72 hours; the insurer decides other appeals within "
                     "30 days (care not yet received) or 60 days (care already received)."]
        contacts = ["The insurer's appeals department (address on the denial letter; member services on your card)"]
        fallback = ["If the plan misses its decision deadlines or does not follow the appeal rules, you can usually "
                    "go straight to external review.",
                    "File a complaint with your state insurance department (or the Department of Labor for "
                    "self-funded employer plans); consumer assistance programs help for free."]
        if plan == "employer":
            contacts.append("Your employer's benefits office; EBSA benefits advisors, askebsa.dol.gov, "
                            "1-866-444-3272")
        else:
            contacts.append("Your state insurance department or consumer assistance program")
    return {
        "short_answer": (f"You can appeal the denial of {service}. Start with the plan's appeal now; the deadline "
                         "runs from when the denial notice arrived, and an independent review is available if "
                         "the plan says no again."),
        "steps": [
            "Read the denial notice: note the exact reason, the claim number and the appeal instructions.",
            f"Ask your doctor for a letter of medical necessity for {service} and the supporting records.",
            first,
            "If waiting could seriously harm your health, ask for an expedited (urgent) appeal.",
            review,
        ],
        "contacts": contacts + ["The doctor or office that ordered the service"],
        "documents": ["The denial notice or explanation of benefits", "Your insurance card and claim number",
                      "Doctor's letter of medical necessity and medical records", "Notes of every call (date, name)"],
        "deadlines": deadlines,
        "if_step_fails": fallback,
    }


def _simple(intent: str, facts: dict[str, Any]) -> dict[str, Any]:
    service = facts.get("service") or "the service"
    plan = facts.get("plan_type")
    label = PLAN_LABELS.get(plan or "", "your plan")
    table: dict[str, dict[str, Any]] = {
        "coverage_check": {
            "short_answer": f"Whether {service} is covered depends on {label}'s benefits; confirm it with the plan "
                            "in writing before you schedule.",
            "steps": ["Find the summary of benefits and coverage (SBC) or plan document and look up the service.",
                      f"Call member services with the procedure (or drug) for {service}: ask if it is covered, "
                      "whether prior authorization or a referral is needed, and what you will pay.",
                      "Confirm the provider and facility are in network.",
                      "Write down the date, the representative's name and a reference number."],
            "contacts": ["Member services (number on your insurance card)", "Your doctor's billing office"],
            "documents": ["Insurance card", "Summary of benefits and coverage", "The procedure or drug name/code"],
            "deadlines": [],
            "if_step_fails": ["If the plan says it is not covered, ask for the denial in writing and appeal it.",
                              "Check whether it is preventive care or an essential health benefit that must be "
                              "covered."],
        },
        "prior_authorization": {
            "short_answer": f"Get prior authorization for {service} before the appointment: your doctor's office "
                            "usually submits the request to the plan.",
            "steps": ["Confirm with the plan whether the service requires prior authorization.",
                      "Ask the doctor's office to submit the request with your records and a letter of medical "
                      "necessity.",
                      "Get the reference number and follow up if there is no decision in time; ask for an "
                      "expedited review if it is urgent.",
                      "Keep the approval letter; check the dates and the approved provider and facility."],
            "contacts": ["Your doctor's office (prior authorization staff)", "The plan's utilization management "
                         "or member services line"],
            "documents": ["Insurance card", "Doctor's order and letter of medical necessity", "Relevant records"],
            "deadlines": ["Urgent requests: decided within 72 hours.",
                          "Standard requests: 7 calendar days for Medicare Advantage, Medicaid, CHIP and federal "
                          "Marketplace plans (from 2026); up to 15 days for employer plans."],
            "if_step_fails": ["If denied, file an appeal (internal appeal, then external review) and ask the "
                              "doctor for a peer-to-peer review with the plan's reviewer."],
        },
        "find_provider": {
            "short_answer": "Use your plan's provider directory, then call the office to confirm it is in network "
                            "for your exact plan and accepting new patients.",
            "steps": ["Search the plan's online provider directory by specialty and ZIP code.",
                      "Call the office: confirm in-network status for your specific plan and that they accept new "
                      "patients.",
                      "If an HMO or POS plan, get a referral from your primary care doctor first.",
                      "Keep a record of what the plan and the office told you."],
            "contacts": ["Member services (number on your card)", "The provider's office"],
            "documents": ["Insurance card (plan name and member ID)"],
            "deadlines": [],
            "if_step_fails": ["If no in-network provider is available within a reasonable distance or wait, ask "
                              "the plan for a network (gap) exception.",
                              "If you relied on a wrong directory listing, you owe only in-network cost sharing."],
        },
        "cost_estimate": {
            "short_answer": f"Your cost for {service} depends on the allowed amount, your deductible, copay or "
                            "coinsurance and your out-of-pocket maximum; ask for an estimate in advance.",
            "steps": ["Get the procedure code and the provider's expected charges.",
                      "Ask the plan (or its cost estimator tool) for the allowed amount and your share.",
                      "Check how much of the deductible and out-of-pocket maximum you have met.",
                      "If uninsured or self-pay, ask the provider for a good faith estimate in writing."],
            "contacts": ["Provider's billing office", "Member services (number on your card)"],
            "documents": ["Insurance card", "Latest explanation of benefits", "Good faith estimate (if self-pay)"],
            "deadlines": [],
            "if_step_fails": ["If the final bill is $400 or more above a good faith estimate, use the patient-"
                              "provider dispute resolution process within 120 days.",
                              "Ask about financial assistance or a payment plan."],
        },
        "enrollment": {
            "short_answer": "You can enroll during open enrollment, or within 60 days of a qualifying life event; "
                            "Medicaid and CHIP accept applications any time.",
            "steps": ["Check whether a life event (job loss, move, marriage, baby) gives you a special enrollment "
                      "period: 60 days to enroll.",
                      "Apply at HealthCare.gov (or your state's marketplace); it also checks Medicaid and CHIP.",
                      "Compare plans by total cost, network and drug list; estimate income for savings.",
                      "Pay the first premium to start coverage."],
            "contacts": ["HealthCare.gov or 1-800-318-2596", "Local navigators: localhelp.healthcare.gov",
                         "Your state Medicaid agency"],
            "documents": ["Proof of income", "Social Security numbers (enter them only on the official "
                          "application)", "Proof of the life event (e.g. coverage end letter)"],
            "deadlines": ["Special enrollment: 60 days after the qualifying event.",
                          "Open enrollment on HealthCare.gov: November 1 to January 15.",
                          "Medicaid and CHIP: any time."],
            "if_step_fails": ["If the marketplace denies a special enrollment period, you can appeal that "
                              "decision.", "Check Medicaid/CHIP eligibility, which has no deadline."],
        },
        "billing_dispute": {
            "short_answer": "Don't pay a bill you think is wrong yet: get it itemized, compare it with your "
                            "explanation of benefits, and dispute it in writing; surprise bills are limited by the "
                            "No Surprises Act.",
            "steps": ["Ask the provider for an itemized bill and compare it with the plan's explanation of benefits.",
                      "Call the billing office, point out the errors, and ask to hold the account while it is "
                      "reviewed.",
                      "If it is a surprise out-of-network bill for emergency care or at an in-network facility, "
                      "tell the provider it is protected by the No Surprises Act; you owe only in-network cost "
                      "sharing.",
                      "Follow up in writing and keep records; ask the plan to reprocess or appeal if it paid "
                      "wrongly."],
            "contacts": ["Provider's billing office", "Member services (number on your card)",
                         "No Surprises Help Desk: 1-800-985-3059"],
            "documents": ["The bill and itemized statement", "Explanation of benefits", "Good faith estimate, if any",
                          "Notes of calls"],
            "deadlines": ["Good faith estimate disputes: bill $400 or more above the estimate, within 120 days "
                          "of the bill."],
            "if_step_fails": ["Complain to the No Surprises Help Desk or your state insurance department.",
                              "Apply for hospital financial assistance (at least 240 days after the first bill)."],
        },
        "prescription_drugs": {
            "short_answer": f"Check the plan's drug list for {service}; if it is not covered or restricted, your "
                            "prescriber can request an exception or prior authorization.",
            "steps": ["Look up the drug in the plan's formulary (drug list) and note its tier and any prior "
                      "authorization or step therapy rule.",
                      "Ask your prescriber whether a covered alternative would work.",
                      "If not, ask the prescriber to file a formulary exception (or coverage determination for "
                      "Medicare Part D) with a supporting statement.",
                      "Ask for an expedited decision if waiting would harm your health."],
            "contacts": ["Your prescriber", "Your pharmacy", "The plan's pharmacy benefit line (number on your card)"],
            "documents": ["Prescription details", "Prescriber's supporting statement", "Records of drugs tried"],
            "deadlines": ["Exception decisions: 72 hours standard, 24 hours expedited."],
            "if_step_fails": ["Appeal the denial (Medicare Part D: redetermination within 65 days) and ask for an "
                              "external review.", "Ask the manufacturer about assistance programs."],
        },
        "continuation_coverage": {
            "short_answer": "You can usually keep your employer plan through COBRA (generally for 18 months) or "
                            "switch to a Marketplace plan within 60 days of losing coverage.",
            "steps": ["Watch for the COBRA election notice from the plan; ask HR if it has not arrived.",
                      "Compare COBRA's full premium (up to 102%) with Marketplace plans and savings.",
                      "Elect COBRA within 60 days, or enroll in a Marketplace plan within 60 days of the loss of "
                      "coverage.",
                      "If you elect COBRA, pay the first premium within 45 days."],
            "contacts": ["Your former employer's HR or the COBRA administrator", "HealthCare.gov or 1-800-318-2596",
                         "EBSA: askebsa.dol.gov, 1-866-444-3272"],
            "documents": ["COBRA election notice", "Proof of coverage end date", "Income estimate for Marketplace "
                          "savings"],
            "deadlines": ["COBRA election: 60 days from the later of the notice or the loss of coverage.",
                          "First COBRA premium: within 45 days after electing.",
                          "Marketplace special enrollment: 60 days after losing job-based coverage."],
            "if_step_fails": ["If no COBRA notice arrives (employers with 20 or more employees), contact EBSA.",
                              "For small employers, ask about state continuation (mini-COBRA)."],
        },
        "other": {
            "short_answer": "I can help with coverage, prior authorization, denials and appeals, bills, costs, "
                            "enrollment, drugs and keeping coverage after a job ends; here is where to start.",
            "steps": ["Find out which kind of coverage you have (employer, Marketplace, Medicare, Medicaid).",
                      "Call the member services number on your card with your question.",
                      "Tell me more about your situation so I can give specific steps."],
            "contacts": ["Member services (number on your card)", "Free local help: localhelp.healthcare.gov"],
            "documents": ["Insurance card", "Any letters or bills you received"],
            "deadlines": [],
            "if_step_fails": ["Contact your state insurance department or consumer assistance program."],
        },
    }
    return table[intent]


def build_plan(intent: str, facts: dict[str, Any], documents: list[dict[str, Any]]) -> dict[str, Any]:
    """An ordered plan for the intent; deadlines from the retrieved documents are added after the
    playbook's own, without duplicates."""
    plan = _appeal(facts) if intent == "claim_denial_appeal" else _simple(intent, facts)
    plan = {key: list(value) if isinstance(value, list) else value for key, value in plan.items()}
    for doc in documents:
        deadline = doc.get("deadline")
        # Appeal deadlines depend on the plan type, which the playbook already resolved.
        if intent == "claim_denial_appeal":
            break
        if deadline and deadline not in plan["deadlines"] and intent in (doc.get("intents") or [intent]):
            plan["deadlines"].append(deadline)
    return plan
