"""The topics the navigator knows, each with its direct answer, steps and rules (data; see agents.topics).

A topic brings its own direct answer (by kind of plan where the rules differ),
its steps and the rules it quotes, so a question about one thing gets that
thing first, not the intent's generic plan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

ANY = "*"


@dataclass(frozen=True)
class Topic:
    name: str
    pattern: re.Pattern[str]
    intents: frozenset[str]
    lead: dict[str, str]  # kind of plan (or "*") -> the direct answer
    steps: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()  # rules to quote in the deadlines
    says: tuple[str, ...] = ()  # rules the direct answer already states (not quoted again)
    contacts: tuple[str, ...] = ()
    query: str = ""  # words that pull this topic's documents into the search
    needs: dict[str, Any] = field(default_factory=dict)  # facts that must hold, e.g. {"plan_type": {"medicare"}}


def _t(name: str, regex: str, intents: str, lead: str | dict[str, str], *, steps: tuple[str, ...] = (),
       rules: tuple[str, ...] = (), says: tuple[str, ...] = (), contacts: tuple[str, ...] = (), query: str = "",
       needs: dict[str, Any] | None = None) -> Topic:
    return Topic(name, re.compile(regex, re.IGNORECASE), frozenset(intents.split()),
                 lead if isinstance(lead, dict) else {ANY: lead}, steps, rules, says, contacts, query, needs or {})


APPEAL = "claim_denial_appeal"
PA = "prior_authorization"
DRUGS = "prescription_drugs"
EBSA = "EBSA (U.S. Department of Labor): askebsa.dol.gov, 1-866-444-3272"

TOPICS: tuple[Topic, ...] = (
    # --- appeals --------------------------------------------------------------------------------------
    _t("expedited_appeal", r"\b(expedit\w*|urgent appeal|fast(er)? appeal|can'?t wait|cannot wait|speed (it|this) up)",
       f"{APPEAL} {PA}",
       "Ask for an expedited (urgent) appeal: when waiting could seriously harm your health, the plan must decide "
       "within 72 hours, and you can ask for an expedited external review at the same time.",
       steps=("Call the plan's appeals line, say you are requesting an expedited appeal, and follow up in writing "
              "the same day.",
              "Ask your doctor to state in writing that waiting the standard time could seriously jeopardize your "
              "life, health or ability to regain function: with that statement the plan must treat it as urgent.",
              "Ask for an expedited external review at the same time; you do not have to wait for the internal "
              "decision."),
       # Its lead gives the 72 hours: the general decision-times rule would say them again.
       says=("expedited", "appeal_decision"), query="expedited urgent appeal 72 hours"),
    _t("external_review", r"\b(external review|independent review|outside review|upheld|final (denial|decision)|"
                          r"(internal )?appeal (was|got) (denied|rejected)|already said no|denied (my|the) appeal|"
                          r"lost (my|the) appeal)", APPEAL,
       {ANY: "Yes: after the plan's final internal denial you can ask for an external review by an independent "
             "reviewer, within 4 months; the plan must follow the reviewer's decision.",
        "medicare": "Medicare has no external review by that name: after the plan's decision the next levels are a "
                    "reconsideration by an independent contractor, then a hearing before a judge; the decision "
                    "letter gives each deadline.",
        "medicaid": "For Medicaid the independent step is the state fair hearing, after the plan's appeal; some "
                    "states also offer an external medical review."},
       steps=("Use the external review form or instructions in the final denial letter (or your state insurance "
              "department's form).",
              "Send what the reviewer needs: the denial letters, your doctor's letter of medical necessity and the "
              "records that support it."),
       says=("external_review",), query="external review independent"),
    _t("appeal_letter", r"\b(appeal letter|write (an|the|my) appeal|what should (the|my) (appeal|letter) say|"
                        r"what (to|do i|should i) (say|write|include))", APPEAL,
       "A strong appeal letter is short and specific: your name, member ID and claim number; what was denied and the "
       "reason the plan gave; why that reason is wrong, in the plan's own terms (its coverage rules, medical "
       "necessity); and exactly what you ask for.",
       steps=("Attach a letter of medical necessity from your doctor and the records that back it up.",
              "Quote the plan document or the plan's own medical policy where it supports you; ask the plan for the "
              "criteria it used (you have a right to them, free).",
              "Keep a copy, send it in a way you can track, and note every call (date, name, reference number)."),
       query="appeal letter medical necessity"),
    _t("appeal_by_doctor", r"\b(doctor|provider|someone else|my (wife|husband|son|daughter|mom|dad))\b.{0,30}\b(file|"
                           r"submit|do|handle|make)\b.{0,20}\bappeal|\bappeal\b.{0,30}\bfor me\b", APPEAL,
       "Yes: your doctor, or anyone you name in writing (a relative, an advocate), can file the appeal for you; the "
       "plan's appeal form has a section to appoint them, and for an urgent appeal your doctor can act without it."),
    _t("appeal_odds", r"\b(success\w*|worth (it|appealing)|chances?|odds|win|overturn\w* (rate|often))\b", APPEAL,
       "Appeals often work, yet few people file them: insurers reversed roughly 4 in 10 appealed denials on "
       "HealthCare.gov plans, and Medicare Advantage plans reversed over 80% of appealed prior authorization denials "
       "(KFF analyses of federal data). A doctor's letter that answers the plan's stated reason makes the "
       "difference."),
    _t("appeal_waiting", r"\b(haven'?t heard|no (answer|decision|response)|still waiting|pending|how long (does|will|"
                         r"can) (the|an|my) appeal take)", APPEAL,
       "The plan must decide an appeal within 72 hours if urgent, 30 days for care you have not had yet, and 60 days "
       "for care you already received; if it misses the deadline you can go straight to external review.",
       says=("appeal_decision",)),
    _t("er_denial", r"\b(not an emergency|wasn'?t an emergency|non-?emergen\w*|(er|emergency room|emergency) (visit|"
                    r"claim|bill|care)? ?(was |got )?denied|denied.{0,40}\b(er|emergency))", f"{APPEAL} coverage_check",
       "Emergency care is judged by your symptoms, not the final diagnosis (the prudent layperson standard): if a "
       "reasonable person would have thought it was an emergency, the plan must cover it, without prior "
       "authorization and at in-network cost sharing.",
       steps=("In the appeal, describe the symptoms you had and why they seemed like an emergency; ask the ER doctor "
              "for a note.",),
       query="emergency prudent layperson"),
    _t("medical_necessity", r"\b(not medically necessary|medical necessity|experimental|investigational)", APPEAL,
       "Denials for 'not medically necessary' or 'experimental' are among the most often overturned: the appeal "
       "turns on your doctor's evidence against the plan's own criteria.",
       steps=("Ask the plan for the medical policy or criteria it applied, and ask your doctor to answer each point "
              "in a letter of medical necessity, with published studies or guidelines where they help.",)),
    _t("snf_discharge", r"\b((skilled nursing|rehab|hospital|home health)\b.{0,60}\b(ends|ending|discharg\w*|go home|"
                        r"tomorrow)|not ready to (go home|leave)|discharg\w*)", f"{APPEAL} coverage_check",
       "Ask for a fast-track appeal: call the Quality Improvement Organization (QIO) named on your notice by noon of "
       "the day before your coverage ends; Medicare keeps paying while the QIO decides, usually within 2 days.",
       steps=("Find the QIO's number on the 'Notice of Medicare Non-Coverage' (or call 1-800-MEDICARE).",
              "Ask your doctor to support staying; the QIO reviews your records."),
       needs={"plan_type": {"medicare"}}, query="medicare appeal fast"),
    _t("fair_hearing", r"\b(fair hearing|eligibility denial|eligibility decision)", f"{APPEAL} enrollment",
       "You can ask for a state fair hearing: after your Medicaid plan's own appeal (within 120 days of its "
       "decision), or directly for a decision by the state agency such as eligibility (the notice gives the "
       "deadline, up to 90 days). To keep services while you wait, ask within 10 days of the notice.",
       steps=("Request the hearing the way the notice says (phone, online or in writing) and ask for your case file.",
              "Free help: local legal aid or your state's Medicaid ombudsman."),
       says=("fair_hearing", "medicaid_continue_benefits"), query="medicaid fair hearing"),
    # --- prior authorization ----------------------------------------------------------------------------
    _t("pa_timing", r"\b(how long|how fast|how quickly|how many days|take to (approve|decide)|timeline|"
                    r"still nothing|still waiting|pending|no decision|haven'?t heard)", PA,
       {ANY: "By law urgent requests are decided within 72 hours; standard requests within 15 days on employer "
             "plans and 7 calendar days on Medicare Advantage, Medicaid, CHIP and HealthCare.gov plans (from 2026).",
        "employer": "On an employer plan, urgent requests are decided within 72 hours and standard ones within 15 "
                    "days (one 15-day extension, with notice).",
        "medicare": "Medicare Advantage plans must decide standard requests within 7 calendar days (from 2026) and "
                    "urgent ones within 72 hours.",
        "medicaid": "Medicaid plans must decide standard requests within 7 calendar days (from 2026) and urgent ones "
                    "within 72 hours.",
        "marketplace": "Marketplace plans on HealthCare.gov must decide standard requests within 7 calendar days "
                       "(from 2026) and urgent ones within 72 hours."},
       says=("pa_urgent", "pa_standard_7", "pa_standard_15"), query="prior authorization decision time"),
    _t("pa_who", r"\b(who (submits|asks|requests|has to ask|files|sends)|me or the (clinic|hospital|doctor|office)|"
                 r"do i (have to|need to) (submit|ask|request))", PA,
       "Your doctor's office (or the hospital) usually submits the prior authorization request with your records; "
       "you can call the plan to check it arrived and to get the reference number."),
    _t("pa_denied", r"\b((prior auth\w*|pre-?auth\w*|authori[sz]ation|pre-?approval|precert\w*).{0,40}\b(denied|"
                    r"rejected|refused|not approved)|(denied|rejected|refused)\b.{0,40}\b(prior auth|"
                    r"authori[sz]ation))",
       PA,
       "Appeal the prior authorization denial: ask your doctor to request a peer-to-peer review with the plan's "
       "doctor, and file an internal appeal (the same deadlines as for any denial); if the plan says no again, ask "
       "for an external review.",
       rules=("internal_appeal", "external_review"), says=("expedited",), query="appeal denied prior authorization"),
    _t("pa_emergency", r"\b(emergency|er visit|emergency room|ambulance)", PA,
       "Emergency care does not need prior authorization: plans must cover it based on your symptoms (the prudent "
       "layperson standard), at in-network cost sharing even out of network.", query="emergency"),
    _t("pa_more_visits", r"\b((only|approved) \d+ (visits|sessions)|more (visits|sessions)|additional (visits|"
                         r"sessions)|visit limit)", PA,
       "Ask your provider to request more visits (a continued authorization) with progress notes showing why you "
       "need them; if the plan refuses, appeal the decision."),
    _t("referral", r"\breferrals?\b", f"{PA} find_provider coverage_check",
       "HMO and POS plans usually need a referral from your primary care doctor before you see a specialist; PPO "
       "and EPO plans usually do not. A referral is not prior authorization: some services need both."),
    # --- enrollment ---------------------------------------------------------------------------------
    _t("newborn", r"\b(newborn|baby|born|adopt\w*|birth)\b", "enrollment continuation_coverage coverage_check",
       {ANY: "A birth or adoption lets you add the child outside open enrollment: employer plans must allow at least "
             "30 days from the birth, Marketplace plans 60 days, and coverage goes back to the date of birth. "
             "Medicaid and CHIP take applications any time.",
        "employer": "Add your baby to your employer plan within 30 days of the birth (at least 30 days is the legal "
                    "minimum; some plans allow more): coverage goes back to the date of birth.",
        "marketplace": "Add your baby to your Marketplace plan within 60 days of the birth; coverage goes back to "
                       "the date of birth.",
        "medicaid": "A baby born to a mother on Medicaid is covered for its first year; tell your Medicaid agency "
                    "about the birth. CHIP and Medicaid take applications any time."},
       says=("sep_employer", "sep_marketplace", "medicaid_any_time"), query="special enrollment baby birth"),
    _t("marriage", r"\b(married|marriage|wedding|spouse join)", "enrollment",
       {ANY: "Marriage is a qualifying event: an employer plan must let you add your spouse within at least 30 days, "
             "and the Marketplace gives you 60 days.",
        "employer": "Marriage lets you add your spouse to your employer plan: ask HR within 30 days of the wedding.",
        "marketplace": "Marriage gives you 60 days to enroll in or change a Marketplace plan "
                       "(a special enrollment period)."},
       says=("sep_employer", "sep_marketplace"), query="special enrollment married"),
    _t("move", r"\b(mov(e|ed|ing)|relocat\w*)\b", "enrollment",
       "A move to a new area gives you a special enrollment period: 60 days from the move to pick a Marketplace plan "
       "(you must have had coverage before, with a few exceptions), and you can apply up to 60 days before.",
       says=("sep_marketplace",), query="special enrollment moved"),
    _t("job_loss_enrollment", r"\b(job ends|won'?t be on (the|my|our) (\w+ )?(plan|insurance)|lost (my|his|her) "
                              r"(job|insurance|coverage)|laid off|lose (my|our) (coverage|"
                              r"insurance)|job'?s coverage)", "enrollment",
       "Losing job-based coverage gives you 60 days to pick a Marketplace plan (and you can apply up to 60 days "
       "before it ends); a spouse's employer plan must let you join within 30 days.",
       rules=("medicaid_any_time",), says=("sep_marketplace", "sep_employer"),
       query="special enrollment lost coverage"),
    _t("medicaid_loss", r"\b(lost (my |our )?medicaid|medicaid (ends|ended|will end|is ending|stops|cut off)|"
                        r"make too much|making too much|no longer (qualify|eligible))", "enrollment",
       "When Medicaid ends you have 60 days to pick a Marketplace plan (a special enrollment period), "
       "often with savings; if "
       "you think the decision is wrong you can also ask for a fair hearing.",
       steps=("Update your application at HealthCare.gov (or your state's marketplace) and choose a plan before "
              "Medicaid ends so there is no gap.",),
       rules=("fair_hearing",), says=("sep_marketplace",), query="medicaid ends marketplace special enrollment"),
    _t("medicaid_renewal", r"\b(renew\w*|redetermination|cancell?ed because|didn'?t return)", "enrollment",
       "Return the renewal by the date on it with what it asks for (usually proof of income and address): if your "
       "coverage ends because the form was late, you have 90 days after it ends to send it and be reinstated "
       "without a new application.",
       steps=("Send proof of income (pay stubs), and report any change of address or household.",
              "Keep a copy and a receipt; if the state ends coverage and you think it is wrong, ask for a fair "
              "hearing."),
       says=("medicaid_renewal",), needs={"plan_type": {"medicaid", "chip", None}}, query="medicaid renewal"),
    _t("turning_26", r"\b(turn(ing|s)? 26|26th|under 26|until 26|parents?'?s? (plan|insurance)|(dad|mom|father|"
                     r"mother)'?s (plan|insurance)|stay on my)", "enrollment coverage_check",
       "You can stay on a parent's plan until 26, even if you are married, not living with them, in school or "
       "offered your own job-based plan. Coverage usually ends the month you turn 26 (on some plans at the end of "
       "that year); losing it gives you 60 days to pick your own plan (a special enrollment period).",
       says=("young_adult", "sep_marketplace"), query="young adults parent plan 26"),
    _t("over_26", r"\b(2[7-9]|[3-9]\d)\b[^?]{0,60}\b(back on|on my|on our|stay on)|back on (my|our) (\w+ )?plan",
       "enrollment",
       "After 26 a child cannot go back on a parent's plan (a few state laws and disabled adult children are the "
       "exceptions): losing job coverage gives them their own 60 days to pick a Marketplace plan and, if they lost "
       "a job, COBRA."),
    _t("medicare_enrollment", r"\b(turn(ing|s)? 65|65th|sign up for medicare|enroll in medicare|medicare "
                              r"enrollment|when (can|do|should) i (sign up|enroll|apply)\b.{0,30}medicare)",
       "enrollment",
       "Your Medicare initial enrollment period is the 7 months around the month you turn 65; sign up in the first "
       "3 months so coverage starts the month you turn 65. Missing it can mean a lifelong late penalty for Part B.",
       steps=("Sign up at ssa.gov/medicare or call Social Security at 1-800-772-1213 (automatic if you already get "
              "Social Security).",),
       rules=("medicare_working",), says=("medicare_iep",),
       contacts=("Your State Health Insurance Assistance Program (SHIP): shiphelp.org, free counselling",),
       query="medicare enrollment initial 65"),
    _t("medicare_working", r"\b(still working|working past 65|work past 65|employer coverage\b.{0,40}part b|part b"
                           r"\b.{0,60}(employer|work))", "enrollment",
       "If you (or your spouse) are still working at a company with 20 or more employees and covered by that job's "
       "plan, you can delay Part B without a penalty; you then have 8 months after the job or the coverage ends to "
       "sign up.", says=("medicare_working",), query="medicare enrollment working"),
    _t("partner_coverage", r"\b(boyfriend|girlfriend|partner|fianc\w*)\b", "enrollment",
       "An employer plan can add an unmarried partner only if it offers domestic partner coverage (ask HR; it may "
       "be taxed as income); a spouse can be added after the wedding, within 30 days. Otherwise each of you needs "
       "your own coverage."),
    _t("medicaid_eligibility", r"\b(eligib\w*|qualify|income|making \$|earn|pregnan\w*|get medicaid|apply for "
                               r"medicaid)\b", "enrollment",
       {ANY: "In states that expanded Medicaid, adults with income up to 138% of the federal poverty level qualify "
             "(about $1,800 a month for one person in 2026); children and pregnant people qualify at higher "
             "incomes. You can apply any time, at your state Medicaid agency or HealthCare.gov."},
       says=("medicaid_any_time",), query="medicaid eligibility apply"),
    _t("open_enrollment", r"\b(open enrollment|missed (open )?enrollment|when can i (sign up|enroll|get)|"
                          r"middle of the year|outside (of )?open)", "enrollment",
       "Open enrollment for Marketplace plans runs November 1 to January 15 on HealthCare.gov; outside it you need "
       "a qualifying life event (losing coverage, moving, marriage, a baby), which gives you 60 days.",
       rules=("medicaid_any_time",), says=("open_enrollment", "sep_marketplace"), query="open enrollment special"),
    _t("help_paying", r"\b(help paying|afford|subsid\w*|tax credit|cheaper|savings|lower (my )?premium|financial help)",
       "enrollment continuation_coverage",
       "Marketplace plans come with premium tax credits based on your income (paid straight to the insurer each "
       "month), and lower deductibles on silver plans for lower incomes; Medicaid or CHIP may cover you or your "
       "children. You can switch plans at open enrollment (November 1 to January 15 on HealthCare.gov) or within 60 "
       "days of a qualifying life event.", query="marketplace savings tax credit"),
    _t("new_job", r"\b(new job|start(ing)? (my|a) (new )?job|waiting period|kick in|new employer|benefits (begin|"
                  r"start))", "enrollment",
       "Coverage through a new job can start after a waiting period of up to 90 days (plus a possible orientation "
       "period of up to a month): ask HR for the date, and keep your current coverage (or COBRA) until then.",
       says=("job_waiting_period",)),
    _t("preexisting", r"\b(pre-?existing|diagnosed with|already (sick|have))", "enrollment coverage_check",
       "Marketplace and employer plans cannot refuse you, charge you more or exclude a pre-existing condition; you "
       "enroll during open enrollment or a special enrollment period like anyone else.",
       query="pre-existing conditions essential health benefits"),
    _t("self_employed", r"\b(self[- ]employed|freelanc\w*|own business|1099)", "enrollment",
       "Self-employed people buy coverage on the Marketplace (HealthCare.gov or your state's marketplace), with "
       "premium tax credits based on your expected income."),
    _t("where_to_buy", r"\b(where (do|can) i (buy|get|sign up)|obamacare|buy (health )?insurance)", "enrollment",
       {ANY: "Buy at HealthCare.gov or your state's own marketplace; it also checks whether you qualify for "
             "Medicaid or CHIP.",
        "CO": "In Colorado the marketplace is Connect for Health Colorado (connectforhealthco.com)."},
       query="marketplace apply"),
    # --- continuation -------------------------------------------------------------------------------
    _t("cobra_cost", r"\b(cost|how much|afford|expensive|cheaper|102|price)\b", "continuation_coverage",
       "COBRA costs the full premium, including the part your employer used to pay, plus up to 2% (102%); a "
       "Marketplace plan with income-based savings is often cheaper.", rules=("cobra_duration",)),
    _t("cobra_duration", r"\b(how long|last|months)\b", "continuation_coverage",
       "COBRA lasts 18 months after a job loss or a cut in hours, 36 months for a spouse or child after a divorce "
       "or a death, and 29 months with a disability extension.", says=("cobra_duration",)),
    _t("cobra_notice_missing", r"\b(never (got|received)|no (cobra )?notice|didn'?t (get|receive)|haven'?t (got|"
                               r"gotten|received))", "continuation_coverage",
       "The employer must tell the plan within 30 days, and you should have the election notice within 44 days of "
       "losing coverage; if it has not come, ask HR in writing, then contact EBSA, which enforces COBRA.",
       says=("cobra_notice",), contacts=(EBSA,)),
    _t("cobra_divorce", r"\b(divorc\w*|separat\w*|ex-?(husband|wife))", "continuation_coverage enrollment",
       "After a divorce you can keep your ex-spouse's employer plan through COBRA for up to 36 months; you (or your "
       "ex) must tell the plan within 60 days of the divorce. Losing that coverage also gives you 60 days for a "
       "Marketplace plan.", rules=("cobra_election",)),
    _t("cobra_death", r"\b(died|passed away|passed|death|widow\w*)\b", "continuation_coverage",
       "I'm sorry for your loss. When the employee dies, the spouse and children can keep the employer plan through "
       "COBRA for up to 36 months; the plan must send you an election notice, and you have 60 days to elect. Losing "
       "that coverage also gives you 60 days for a Marketplace plan, and Medicaid may cover you if your income "
       "dropped.", rules=("cobra_election",)),
    _t("cobra_retire", r"\b(retir\w*|bridge (to|until) medicare|until (i get |i'm on |i am on )?medicare|before "
                       r"medicare|until (i'?m |i am |i turn )?65)", "continuation_coverage",
       "Until Medicare at 65 your options are COBRA for up to 18 months, a Marketplace plan (savings depend on your "
       "income, which often drops at retirement), a spouse's plan, or retiree coverage if your employer offers it.",
       query="cobra marketplace retire"),
    _t("cobra_fired", r"\b(fired|terminated|let go)\b", "continuation_coverage",
       "Being fired still gives you COBRA rights, unless it was for gross misconduct; you also get 60 days for a "
       "Marketplace plan."),
    _t("cobra_hours", r"\bhours\b", "continuation_coverage",
       "A cut in hours that ends your eligibility is a COBRA qualifying event, like a job loss: you can keep the "
       "plan for up to 18 months."),
    _t("cobra_drop", r"\b(drop|cancel|stop paying)\b.{0,20}\bcobra|\bcobra\b.{0,80}\b(drop|cancel|switch)",
       "continuation_coverage",
       "You can cancel COBRA any time: tell the plan administrator in writing, or stop paying once your new coverage "
       "starts. Dropping it early does not open a special enrollment period (you would wait for open enrollment, "
       "November 1 to January 15), but a new job's plan can start whenever you are eligible for it.",
       says=("open_enrollment",)),
    _t("cobra_payment", r"\b(pay|payment|premiums? due|first payment|grace)", "continuation_coverage",
       "Pay the first COBRA premium within 45 days of electing (coverage then starts from the day the old coverage "
       "ended); later premiums are monthly, with a 30-day grace period.", says=("cobra_premium",)),
    _t("cobra_small", r"\b(\d+ employees|small (company|employer|business)|mini-?cobra|state continuation)",
       "continuation_coverage",
       "Federal COBRA covers employers with 20 or more employees; most states have a 'mini-COBRA' law for smaller "
       "employers (the insurer runs it)."),
    _t("cobra_vs_marketplace", r"\b(marketplace|obamacare|cheaper|can'?t afford|afford)", "continuation_coverage",
       "Compare before you choose: a Marketplace plan with premium tax credits is often cheaper than COBRA, and "
       "with a low income Medicaid may cover you; COBRA keeps your doctors and what you already paid toward the "
       "deductible.", query="cobra or marketplace"),
    # --- bills -------------------------------------------------------------------------------------
    _t("surprise_bill", r"\b(surprise|out[- ]of[- ]network (anesthesi\w+|radiolog\w+|patholog\w+|doctor|surgeon|"
                        r"assistant)|anesthesi\w+|radiolog\w+|er doctor|never met|balance bill\w*|emergency)",
       "billing_dispute",
       "The No Surprises Act protects you: for emergency care, and for out-of-network doctors at an in-network "
       "hospital or surgery center, you owe only your in-network cost sharing, and they cannot balance bill you "
       "for the rest.",
       steps=("Tell the provider in writing that the bill is protected by the No Surprises Act and ask them to "
              "rebill at in-network cost sharing.",
              "If they do not, call the No Surprises Help Desk (1-800-985-3059) or file a complaint at "
              "cms.gov/nosurprises."),
       contacts=("No Surprises Help Desk: 1-800-985-3059",), query="no surprises act surprise bill"),
    _t("gfe_dispute", r"\b(good faith estimate|estimate)\b", "billing_dispute",
       "If you were uninsured or paid yourself and the bill is $400 or more above the good faith estimate, you can "
       "dispute it through the federal patient-provider dispute process within 120 days of the bill.",
       says=("gfe_dispute",), query="good faith estimate dispute"),
    _t("itemized", r"\b(itemi[sz]ed|error|mistake|never (had|got|received)|twice|duplicate|double|wrong)",
       "billing_dispute",
       "Ask for an itemized bill and compare every line with your explanation of benefits: duplicate charges and "
       "services you never received are common and must be removed.", query="itemized bill error"),
    _t("collections", r"\b(collections?|credit report|credit score|sue|sued|lawsuit)", "billing_dispute",
       "A bill sent to collections while your insurance is still processing it can be stopped: tell the collection "
       "agency in writing that the bill is disputed or still with your insurer and ask for proof of the debt; the "
       "credit bureaus do not report medical debt under $500, nor any medical debt less than a year old.",
       query="billing collections"),
    _t("financial_assistance", r"\b(financial assistance|charity care|reduce|lower|can'?t pay|afford|payment plan|"
                               r"uninsured|help paying|bleeding|stress)", "billing_dispute",
       "Ask the hospital for its financial assistance (charity care) application: nonprofit hospitals must have "
       "one and must accept it for 240 days after the first bill; many also offer a payment plan without interest.",
       says=("financial_assistance",), query="hospital financial assistance"),
    _t("wait_for_eob", r"\b(hasn'?t (been )?processed|not (yet )?processed|still processing|before (the )?"
                       r"(insurance|claim)|should i pay)", "billing_dispute",
       "Don't pay until the claim is processed: the plan's explanation of benefits (EOB) says what you owe; ask the "
       "provider to hold the bill until then, and pay only the amount the EOB shows."),
    _t("no_show", r"\bno[- ]show|missed (appointment|visit)|cancell?ation fee", "billing_dispute",
       "A provider may charge a missed-appointment fee if it told you its policy in advance; insurance never pays "
       "it. Ask for it to be waived, especially the first time or if you had a good reason."),
    _t("eob_mismatch", r"\b(eob|explanation of benefits)\b.{0,60}\b(owe|says|responsibility)", "billing_dispute",
       "What you owe an in-network provider is what your explanation of benefits (EOB) says, not the provider's "
       "bill."),
    _t("ground_ambulance", r"\bambulance\b", "billing_dispute",
       "The No Surprises Act covers air ambulances but not ground ambulances; some states protect you from ground "
       "ambulance balance bills, so ask your state insurance department.", query="ambulance surprise bill"),
    _t("directory_error", r"\b(directory|listed|website said)\b", "billing_dispute find_provider",
       "If you relied on the plan's directory and it listed the provider as in network, you owe only in-network "
       "cost sharing: send the plan a screenshot or note of the listing.", query="provider directory network"),
    # --- drugs --------------------------------------------------------------------------------------
    _t("formulary_exception", r"\b(not on|isn'?t on|not covered|won'?t cover|doesn'?t cover|dropped|removed|"
                              r"exception|denied|not on their list|no longer covers?)", DRUGS,
       {ANY: "Your prescriber can ask the plan for a formulary exception for {drug}: the plan must decide within 72 "
             "hours (24 hours if expedited), and if it says no you can appeal and ask for an external review.",
        "medicare": "Ask your Part D plan for a coverage determination (an exception) for {drug}, with your "
                    "prescriber's statement: it must decide within 72 hours (24 hours if expedited); if it says no, "
                    "ask for a redetermination within 65 days."},
       says=("formulary_exception",), query="formulary exception"),
    _t("part_d_appeal", r"\b(denied|rejected)\b.{0,40}\b(exception|appeal|coverage determination)", DRUGS,
       "Ask the plan for a redetermination within 65 days of its decision; if it says no again, an Independent "
       "Review Entity reviews it.", says=("part_d_redetermination",), needs={"plan_type": {"medicare"}}),
    _t("tier", r"\b(tier|costs? (too much|more)|expensive|price went up|suddenly costing|\$\d+)", DRUGS,
       "Your prescriber can ask for a tiering exception to move {drug} to a cheaper tier, and you can ask whether a "
       "generic or another covered drug would work.", rules=("formulary_exception",)),
    _t("new_year_drug_cost", r"\b(january|new year|went up|jumped|increase\w*|from \$\d+ to)\b", DRUGS,
       "A drug's cost often jumps in January because the deductible starts over (you pay the full negotiated price "
       "until you meet it) or the drug moved to a higher tier on the new formulary; check both, and ask your "
       "prescriber about a tiering exception for {drug}."),
    _t("discount_card", r"\b(goodrx|discount card|coupon|cash price)\b", DRUGS,
       "A discount card such as GoodRx can cost less than your copay, but what you pay with it usually does not count "
       "toward your deductible or out-of-pocket maximum; ask the pharmacy to compare both prices."),
    _t("step_therapy", r"\bstep therapy|try (a )?cheaper drug first|try .{0,20} first", DRUGS,
       "Step therapy means the plan wants you to try a cheaper drug first; your prescriber can ask for an exception "
       "when the first drug did not work before, would harm you, or you are stable on the current one.",
       query="step therapy exception"),
    _t("generic", r"\b(generic|cheaper version|biosimilar)", DRUGS,
       "Ask your pharmacist or prescriber whether a generic (or biosimilar) of {drug} exists and is on your plan's "
       "formulary; if the plan switches you and the brand works better for you, your prescriber can ask for an "
       "exception."),
    _t("mail_order", r"\b(mail[- ]order|90[- ]day)", DRUGS,
       "Most plans cover a 90-day supply of long-term medicines through a mail-order pharmacy, often for less than "
       "three 30-day fills; the drug list or member services tells you the cost."),
    _t("drug_pa", r"\b(prior (approval|auth\w*)|authori[sz]ation|pre-?approval)", DRUGS,
       "Plans may require prior authorization for {drug} and renew it each year; your prescriber sends the request "
       "and the plan must decide within 72 hours (24 if urgent)."),
    _t("part_d_cap", r"\b(out of pocket cap|cap|costs too much|extra help|too expensive|afford)", DRUGS,
       "In 2026 Part D drug costs stop at $2,100 a year; Extra Help lowers them further for limited incomes, and "
       "the Medicare Prescription Payment Plan spreads them over monthly payments.",
       says=("part_d_cap",), needs={"plan_type": {"medicare"}}),
    _t("insulin_cost", r"\binsulin\b", DRUGS,
       {ANY: "If insulin costs too much, ask for a tiering exception and check whether your state caps insulin "
             "copays.",
        "medicare": "On Medicare, covered insulin costs no more than $35 for a month's supply."}),
    _t("naloxone", r"\b(naloxone|narcan|overdose reversal|opioid reversal)", f"{DRUGS} coverage_check",
       "Naloxone (Narcan) is sold without a prescription at most pharmacies; most plans and Medicaid also cover it, "
       "often at no cost when a prescriber writes it."),
    # --- coverage -----------------------------------------------------------------------------------
    _t("preventive", r"\b(colonoscop\w*|mammogram|vaccin\w*|shots?|annual physical|physical|check-?up|screening|"
                     r"birth control|contracepti\w*|well[- ]child|breast pump|preventive|free)\b", "coverage_check",
       "Preventive care (screenings such as a colonoscopy from 45 or a mammogram, vaccines, birth control, yearly "
       "check-ups, breastfeeding support and pumps) is covered with no copay or deductible on Marketplace and most "
       "employer plans, when you use an in-network provider.",
       steps=("Make sure the visit is booked and billed as preventive: a test done to check a symptom can be "
              "billed as diagnostic.",), query="preventive care free"),
    _t("mental_health", r"\b(mental health|therap(y|ist)|counsel\w*|psychiatr\w*|substance|rehab|addiction|autism|"
                        r"aba\b|suicid\w*|self-harm|recover\w*)", "coverage_check find_provider",
       "Mental health and substance use care must be covered on the same terms as medical care (the parity law) on "
       "most plans, and it is an essential health benefit on Marketplace plans.",
       query="mental health parity"),
    _t("maternity", r"\b(maternity|pregnan\w*|prenatal|having a baby|delivery)", "coverage_check cost_estimate",
       "Pregnancy, childbirth and newborn care are essential health benefits on Marketplace plans, and prenatal "
       "screenings are preventive care.", query="essential health benefits maternity"),
    _t("dental_vision", r"\b(dental|dentist|vision|glasses|hearing aids?|lasik)", "coverage_check",
       {ANY: "Medical plans usually do not cover adult dental, vision, hearing aids or LASIK (children's dental and "
             "vision are essential health benefits); look for a separate dental or vision plan.",
        "medicare": "Original Medicare does not cover routine dental, vision or hearing aids; many Medicare "
                    "Advantage plans add some.",
        "medicaid": "Medicaid covers adult dental and vision in some states and not others: ask your state "
                    "Medicaid agency or plan."}),
    _t("dme", r"\b(wheelchair|cpap|walker|oxygen|hospital bed|durable|breathing machine|nebulizer|insulin pump)",
       "coverage_check prior_authorization",
       "Wheelchairs, CPAP machines and other durable medical equipment are covered (Medicare Part B and most plans) "
       "when a doctor orders them for use at home and you use a supplier the plan works with; some items need "
       "prior authorization."),
    _t("ivf", r"\b(ivf|fertility|infertility|egg freezing)", "coverage_check",
       "IVF is covered only if your plan includes it: some states require fertility coverage from fully insured "
       "plans, but self-funded employer plans are exempt from state mandates, so check the plan document."),
    _t("ambulance_coverage", r"\bambulance\b", "coverage_check",
       "Plans cover emergency ambulance rides as emergency care; a non-emergency ride may need prior authorization."),
    _t("telehealth", r"\b(telehealth|telemedicine|virtual visit|video visit)", "coverage_check",
       "Most plans cover telehealth visits, often with a lower copay; check whether the telehealth provider is in "
       "network."),
    _t("chiropractic", r"\bchiropract\w*", "coverage_check",
       "Many plans cover a limited number of chiropractic visits a year; Original Medicare covers only manual "
       "manipulation of the spine, and Medicare Advantage plans may cover more."),
    _t("second_opinion", r"\bsecond opinion", "coverage_check",
       "Most plans cover a second opinion from an in-network doctor; an HMO may need a referral."),
    _t("emergency_coverage", r"\b(emergency room|er\b|emergency)", "coverage_check",
       "Emergency care is covered without prior authorization, judged by your symptoms (the prudent layperson "
       "standard), at in-network cost sharing even out of network."),
    # --- providers -----------------------------------------------------------------------------------
    _t("continuity_of_care", r"\b((left|leaving|dropped out of|no longer in) (my |the )?(\w+ )?network|"
                             r"no longer in[- ]network|"
                             r"dropped (from|out)|out of network now|mid-?treatment)", "find_provider",
       "If you are in treatment (a serious condition, pregnancy, a scheduled surgery) you can ask to keep seeing "
       "your doctor at in-network rates for up to 90 days (continuity of care); meanwhile pick a new in-network "
       "doctor.", says=("continuity_of_care",)),
    _t("network_gap", r"\b(no in[- ]network|within \d+ miles|none (nearby|accept)|can'?t find|nobody takes|no one "
                      r"takes|every doctor|says they don'?t take)", "find_provider",
       "If the plan has no in-network provider you can reach in reasonable time and distance, ask it for a network "
       "(gap) exception so an out-of-network provider is paid at in-network rates; report a wrong directory to the "
       "plan and file a complaint with your state insurance department.",
       steps=("Write down every provider you called and what they said; send the list with your exception request.",)),
    _t("out_of_network", r"\bout[- ]of[- ]network\b", "find_provider coverage_check",
       "A PPO or POS plan pays part of out-of-network care: you usually pay the provider, then file a claim (ask for a "
       "superbill) and the plan reimburses its out-of-network rate, with a separate deductible; an HMO or EPO pays "
       "nothing out of network except emergencies."),
    # --- costs ---------------------------------------------------------------------------------------
    _t("copay_levels", r"\bcopays?\b.{0,60}\b(specialist|primary|regular doctor|urgent care|er)\b|\b(specialist|"
                       r"urgent care)\b.{0,60}\bcopay", "cost_estimate",
       "Plans set a different copay for each kind of visit: specialist visits usually cost more than primary care, "
       "and the ER more than urgent care; your summary of benefits and coverage lists them."),
    _t("self_pay", r"\b(uninsured|self[- ]pay|cash price|pay (it )?myself|no insurance)", "cost_estimate",
       "Without insurance, ask for a good faith estimate in writing (providers must give one when care is "
       "scheduled, at least 3 business days ahead) and for the cash price; hospitals also publish prices.",
       rules=("gfe_dispute",), query="good faith estimate uninsured"),
    _t("deductible_reset", r"\b(reset|january|new year|plan year)", "cost_estimate",
       "Deductibles and out-of-pocket maximums reset at the start of each plan year (January 1 on most individual "
       "plans; employer plans may use another date)."),
    # --- other ---------------------------------------------------------------------------------------
    _t("regulator", r"\b(regulat\w*|complain\w*|oversee\w*|report (them|my insurer))", "other",
       "Your state insurance department regulates insurers and the plans they sell; self-funded employer plans are "
       "regulated by the U.S. Department of Labor (EBSA), Medicare plans by Medicare (1-800-MEDICARE), Medicaid "
       "plans by your state Medicaid agency.", contacts=(EBSA,)),
    _t("free_help", r"\b(free help|navigator|assister|help (filling|signing)|spanish|in my area|local help)",
       "other enrollment",
       "Free, unbiased help: trained navigators and assisters at localhelp.healthcare.gov or 1-800-318-2596 (help "
       "in many languages); for Medicare, your State Health Insurance Assistance Program (SHIP)."),
    _t("insurance_card", r"\b(insurance card|member (id|card)|my card)", "other",
       "Your card shows your member ID and group number, the plan type (HMO, PPO...), the copays for common visits, "
       "and the member services and pharmacy numbers to call."),
)
