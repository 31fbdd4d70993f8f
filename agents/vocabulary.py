"""Names the rules recognise: kinds of plan, insurers, states, services and drugs, and how to show them.

Specific names are kept as the person said them ("Tresiba", not "insulin";
"knee surgery", not "surgery"): an answer that names the person's own drug
reads like it was written for them.
"""

from __future__ import annotations

import re

PLAN_TYPES: list[tuple[str, re.Pattern[str]]] = [
    ("tricare", re.compile(r"(?i)\btricare\b")),
    ("va", re.compile(r"(?i)\b(va health|veterans affairs|va benefits|the va\b|va care)")),
    ("medicare", re.compile(r"(?i)\b(medicare|part [abd]\b|medigap)")),
    ("medicaid", re.compile(r"(?i)\b(medicaid|medi-cal|masshealth|apple health|tenncare|soonercare|badgercare|husky|"
                            r"healthy michigan|ahcccs)\b")),
    ("chip", re.compile(r"(?i)\b(chip|children'?s health insurance)\b")),
    ("marketplace", re.compile(r"(?i)\b(marketplace|healthcare\.gov|obamacare|aca plan|exchange plan|the exchange|"
                               r"covered california|connect for health colorado|ny state of health|pennie|"
                               r"get covered nj|mnsure|washington healthplanfinder|georgia access|"
                               r"bought (it|the plan|my plan|a plan|insurance) (myself|on my own)|"
                               r"(plan|insurance) i bought|individual (plan|policy)|bronze plan|silver plan|"
                               r"gold plan|bronze|silver)\b")),
    ("employer", re.compile(r"(?i)\b(employer|through (my |our |his |her )?(work|job|company|employer)|"
                            r"(husband|wife|spouse|partner|dad|mom|father|mother)'?s (job|work|employer|company)|"
                            r"work (plan|insurance)|company (plan|insurance)|group (plan|health)|union|"
                            r"(job|work)'?s (plan|insurance)|cobra|self-funded|self funded|erisa|from (my )?work|"
                            r"my job'?s|insurance (at|from) (my )?(work|job))\b")),
    ("uninsured", re.compile(r"(?i)\b(uninsured|no insurance|don'?t have (health )?insurance|without insurance|"
                             r"self[- ]pay|paying cash|pay (it )?myself|cash price)\b")),
]
PLAN_DETAILS: list[tuple[str, re.Pattern[str]]] = [
    ("medicare_advantage", re.compile(r"(?i)\b(medicare advantage|advantage plan|ma plan|humana gold|"
                                      r"aarp medicare|medicare hmo|medicare ppo|part c)\b")),
    ("original_medicare", re.compile(r"(?i)\b(original medicare|traditional medicare|regular medicare|part [ab]\b|"
                                     r"medicare summary notice)")),
    ("part_d", re.compile(r"(?i)\b(part d|medicare drug plan)\b")),
    ("self_funded", re.compile(r"(?i)\b(self[- ]funded|self[- ]insured|erisa)\b")),
    ("hmo", re.compile(r"\bHMO\b|(?i:\bhmo\b)")),
    ("ppo", re.compile(r"(?i)\bppo\b")),
    ("epo", re.compile(r"(?i)\bepo\b")),
    ("pos", re.compile(r"\bPOS\b")),
    ("hdhp", re.compile(r"(?i)\b(hdhp|high[- ]deductible)\b")),
]
INSURER_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (name, re.compile(r"(?i)\b(" + pattern + r")\b")) for name, pattern in [
        ("Blue Cross Blue Shield", r"blue cross blue shield|bcbs"), ("Blue Cross", r"blue cross"),
        ("Blue Shield", r"blue shield"), ("Florida Blue", r"florida blue"), ("Aetna", r"aetna"),
        ("Anthem", r"anthem"), ("Cigna", r"cigna"), ("Humana", r"humana"), ("Kaiser Permanente", r"kaiser"),
        ("UnitedHealthcare", r"united ?health ?care|uhc|united healthcare"), ("Molina", r"molina"),
        ("Ambetter", r"ambetter"), ("Oscar", r"oscar"), ("Highmark", r"highmark"), ("CareSource", r"caresource"),
        ("Wellcare", r"wellcare"), ("Amerigroup", r"amerigroup"), ("Centene", r"centene"), ("Medica", r"medica"),
        ("Premera", r"premera"), ("Regence", r"regence"), ("Tufts", r"tufts"), ("EmblemHealth", r"emblem\w*"),
    ]
]

STATES = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA", "colorado": "CO",
    "connecticut": "CT", "delaware": "DE", "florida": "FL", "georgia": "GA", "hawaii": "HI", "idaho": "ID",
    "illinois": "IL", "indiana": "IN", "iowa": "IA", "kansas": "KS", "kentucky": "KY", "louisiana": "LA",
    "maine": "ME", "maryland": "MD", "massachusetts": "MA", "michigan": "MI", "minnesota": "MN",
    "mississippi": "MS", "missouri": "MO", "montana": "MT", "nebraska": "NE", "nevada": "NV",
    "new hampshire": "NH", "new jersey": "NJ", "new mexico": "NM", "new york": "NY", "north carolina": "NC",
    "north dakota": "ND", "ohio": "OH", "oklahoma": "OK", "oregon": "OR", "pennsylvania": "PA",
    "rhode island": "RI", "south carolina": "SC", "south dakota": "SD", "tennessee": "TN", "texas": "TX",
    "utah": "UT", "vermont": "VT", "virginia": "VA", "washington": "WA", "west virginia": "WV",
    "wisconsin": "WI", "wyoming": "WY", "district of columbia": "DC",
}
STATE_NAMES = {code: name.title() for name, code in STATES.items()}
# "Washington" is the state unless it is the city ("Washington, DC"); "Georgia Access" is still Georgia.
STATE_ALTERNATION = "|".join(sorted(STATES, key=len, reverse=True))
STATE_NAME = re.compile(r"(?i)\b(" + STATE_ALTERNATION + r")\b(?!,? d\.?c\.?)")
MOVED_TO_STATE = re.compile(r"(?i)\b(mov\w+|relocat\w+)\b[^.]{0,40}?\bto (" + STATE_ALTERNATION + r")\b")
# Two-letter codes only in capitals after "in"/"from"/"live in", so "in OR" works but "or" does not.
STATE_CODE = re.compile(r"\b(?:in|from|to|In|From)\s+(" + "|".join(sorted(set(STATES.values()))) + r")\b")

SERVICES = [
    "mri", "ct scan", "cat scan", "pet scan", "x-ray", "ultrasound", "mammogram", "colonoscopy", "surgery",
    "knee replacement", "hip replacement", "spinal fusion", "physical therapy", "occupational therapy",
    "chiropractor", "chiropractic", "ambulance", "air ambulance", "emergency room", "er visit", "urgent care",
    "therapy", "counseling", "mental health", "rehab", "sleep study", "blood test", "lab work", "labs", "ivf",
    "fertility treatment", "maternity care", "prenatal care", "c-section", "dental", "vision", "hearing aids",
    "wheelchair", "cpap", "insulin pump", "biopsy", "chemotherapy", "chemo", "radiation", "dialysis",
    "home health", "hospice", "skilled nursing", "nursing home", "vaccine", "flu shot", "checkup",
    "annual physical", "physical", "bariatric surgery", "gastric bypass", "hysterectomy", "vasectomy",
    "birth control", "telehealth", "allergy testing", "genetic testing", "speech therapy", "autism therapy",
    "aba therapy", "echocardiogram", "stress test", "endoscopy", "anesthesia", "specialist visit", "eeg", "ekg",
    "lasik", "breast pump", "hospital stay", "inpatient rehab", "home health aide", "infusion", "injections",
    "cataract surgery", "hernia surgery", "back surgery", "knee surgery", "hip surgery", "shoulder surgery",
    "heart surgery", "brain mri", "ct", "second opinion", "covid test", "pap smear", "shingles vaccine",
    "cardiac rehab", "tonsillectomy", "bloodwork", "blood work",
]
_BODY = r"(knee|hip|back|spine|spinal|shoulder|heart|brain|eye|foot|ankle|wrist|hand|neck|sinus|hernia|" \
        r"gallbladder|cardiac|breast|lumbar|cervical|abdominal|pelvic)"
SERVICE_PATTERN = re.compile(r"(?i)\b(" + _BODY + r" )?(" + "|".join(
    re.escape(s) for s in sorted(SERVICES, key=len, reverse=True)) + r")s?\b")

DRUGS_LISTED = [
    "insulin", "tresiba", "lantus", "humalog", "novolog", "basaglar", "toujeo", "levemir", "ozempic", "wegovy",
    "mounjaro", "zepbound", "trulicity", "victoza", "saxenda", "rybelsus", "jardiance", "farxiga", "januvia",
    "eliquis", "xarelto", "entresto", "humira", "enbrel", "stelara", "skyrizi", "dupixent", "rinvoq", "otezla",
    "cosentyx", "biktarvy", "descovy", "truvada", "symbicort", "advair", "breo", "trelegy", "spiriva", "albuterol",
    "inhaler", "epipen", "narcan", "naloxone", "suboxone", "buprenorphine", "vyvanse", "adderall", "ritalin",
    "concerta", "zoloft", "lexapro", "prozac", "wellbutrin", "abilify", "seroquel", "lipitor", "crestor",
    "metformin", "paxlovid", "keytruda", "revlimid", "ibrance", "xtandi", "linzess", "restasis", "nurtec",
    "ubrelvy", "aimovig", "emgality", "botox", "prolia", "repatha", "synthroid", "levothyroxine", "gabapentin",
    "lyrica", "antidepressant", "biosimilar", "xanax", "klonopin", "ativan", "valium", "ambien", "oxycodone",
    "percocet", "hydrocodone", "tramadol", "prednisone", "amoxicillin", "eliquis", "plavix", "jardiance",
    "invokana", "lantus", "tylenol", "celebrex", "singulair", "flonase", "nexium", "omeprazole", "lisinopril",
    "atorvastatin", "amlodipine", "sertraline", "fluoxetine", "bupropion", "trazodone", "buspirone",
    "hydroxychloroquine", "methotrexate", "otezla", "ocrevus", "tecfidera", "zyprexa", "latuda", "vraylar",
    "rexulti", "trintellix", "auvelity", "ozempic pen", "glp-1",
]
DRUGS = list(dict.fromkeys(DRUGS_LISTED))
_GENERIC = {"insulin", "albuterol", "inhaler", "naloxone", "buprenorphine", "metformin", "levothyroxine",
            "gabapentin", "antidepressant", "biosimilar"}
_DISPLAY = {"epipen": "EpiPen", "narcan": "Narcan"}
DRUG_NAMES = "|".join(sorted(DRUGS, key=len, reverse=True))
DRUG_PATTERN = re.compile(r"(?i)\b(" + DRUG_NAMES + r")s?\b")
_ACRONYMS = {"mri": "MRI", "ct scan": "CT scan", "cat scan": "CAT scan", "pet scan": "PET scan", "ivf": "IVF",
             "cpap": "CPAP", "er visit": "ER visit", "aba therapy": "ABA therapy", "eeg": "EEG", "ekg": "EKG",
             "lasik": "LASIK", "ct": "CT scan", "brain mri": "brain MRI"}


def display_service(service: str) -> str:
    lowered = " ".join(service.lower().split())
    lowered = lowered[:-1] if lowered.endswith("s") and lowered[:-1] in SERVICES else lowered
    words = lowered.split(" ", 1)
    if len(words) == 2 and re.fullmatch(_BODY, words[0]) and words[1] in _ACRONYMS:
        return f"{words[0]} {_ACRONYMS[words[1]]}"
    return _ACRONYMS.get(lowered, lowered)


def display_drug(drug: str) -> str:
    lowered = drug.lower().rstrip("s") if drug.lower() not in DRUGS else drug.lower()
    if lowered in _DISPLAY:
        return _DISPLAY[lowered]
    return lowered if lowered in _GENERIC else lowered.capitalize()

# States that run their own marketplace instead of HealthCare.gov (2026).
STATE_MARKETPLACES = {
    "CA": "Covered California (coveredca.com)", "CO": "Connect for Health Colorado (connectforhealthco.com)",
    "CT": "Access Health CT (accesshealthct.com)", "DC": "DC Health Link (dchealthlink.com)",
    "GA": "Georgia Access (georgiaaccess.gov)", "ID": "Your Health Idaho (yourhealthidaho.org)",
    "IL": "Get Covered Illinois (getcovered.illinois.gov)", "KY": "kynect (kynect.ky.gov)",
    "ME": "CoverME.gov", "MD": "Maryland Health Connection (marylandhealthconnection.gov)",
    "MA": "the Massachusetts Health Connector (mahealthconnector.org)", "MN": "MNsure (mnsure.org)",
    "NV": "Nevada Health Link (nevadahealthlink.com)", "NJ": "Get Covered New Jersey (nj.gov/getcoverednj)",
    "NM": "beWellnm (bewellnm.com)", "NY": "NY State of Health (nystateofhealth.ny.gov)",
    "PA": "Pennie (pennie.com)", "RI": "HealthSource RI (healthsourceri.com)",
    "VT": "Vermont Health Connect (vermonthealthconnect.gov)",
    "VA": "the Virginia Insurance Marketplace (marketplace.virginia.gov)",
    "WA": "Washington Healthplanfinder (wahealthplanfinder.org)",
}


def marketplace_for(state: object) -> str:
    """Where people in the state buy a Marketplace plan."""
    return STATE_MARKETPLACES.get(str(state), "HealthCare.gov (1-800-318-2596)")
