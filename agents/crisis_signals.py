"""What a crisis sounds like: signals of meaning, grouped by kind, on normalised text.

A signal is mostly two ideas close together, in either order, rather than one
fixed phrase: a part of the face and a word for drooping ("her smile is
crooked", "one side of his mouth is sagging"), blood and a word for not
stopping ("it won't stop bleeding", "I'm bleeding and can't make it stop"),
swallowing and too much ("ate the whole bag", "took my pills twice").
`agents.crisis` decides which matches count (negation, figures of speech,
the past, questions about coverage); this module only says what to look for.

Text here is already normalised (`agents.crisis.normalise`): lower case,
contractions expanded ("can't" -> "can not", "he's" -> "he is"), common
misspellings fixed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Kinds, most immediately dangerous to the body first: the reply follows this order.
KINDS = ("not_breathing", "heart_attack", "stroke", "bleeding", "pregnancy", "overdose", "medical",
         "violence", "suicidal", "self_harm")
# risk_detections.category of each kind.
CATEGORY = {"not_breathing": "medical_emergency", "heart_attack": "medical_emergency", "stroke": "medical_emergency",
            "bleeding": "medical_emergency", "pregnancy": "medical_emergency", "overdose": "medical_emergency",
            "medical": "medical_emergency", "violence": "danger", "suicidal": "self_harm", "self_harm": "self_harm"}
# Emergencies of the body: told about others as often as oneself, and made safe by being in the past.
MEDICAL_KINDS = frozenset({"not_breathing", "heart_attack", "stroke", "bleeding", "pregnancy", "overdose", "medical"})


@dataclass(frozen=True)
class Signal:
    kind: str
    pattern: re.Pattern[str]
    # A sign that is urgent only with a second sign of its kind, or a word that says it is happening right now.
    weak: bool = False
    # The pattern carries its own negation ("do not want to live"): a "not" before it does not cancel it.
    negation_inside: bool = False
    # A past act (a suicide attempt): urgent unless the message places it in the past or in care.
    act: bool = False
    # Another idea the sentence must hold (a substance for "took too many").
    requires: re.Pattern[str] | None = None


def near(first: str, second: str, words: int) -> str:
    """A regex for the two ideas at most `words` words apart, in either order."""
    gap = rf"(?:\W+\w+){{0,{words}}}?\W+"
    a, b = rf"\b(?:{first})\b", rf"\b(?:{second})\b"
    return rf"(?:{a}{gap}{b}|{b}{gap}{a})"


def _s(kind: str, regex: str, *, weak: bool = False, negation_inside: bool = False, act: bool = False,
       requires: str | None = None) -> Signal:
    return Signal(kind, re.compile(regex), weak, negation_inside, act, re.compile(requires) if requires else None)


# --- vocabulary -------------------------------------------------------------------------------------------
PERSON_SUBJECT = (r"(he|she|they|my (?:\w+ )?(?:husband|wife|partner|boyfriend|girlfriend|ex|dad|father|mom|mother|"
                  r"stepdad|stepfather|stepmom|stepmother|son|brother|sister|roommate|spouse|fiance|fiancee|uncle|"
                  r"grandpa|grandfather|daughter)|(?:\w+)'s (?:husband|wife|boyfriend|girlfriend|dad))")
POSSESSIVE = r"(my|his|her|their|our|your|the|(?:\w+)'s)"
SUBSTANCE = (r"pills?|tablets?|capsules?|meds|medications?|medicines?|drugs|tylenol|acetaminophen|paracetamol|advil|"
             r"ibuprofen|aspirin|motrin|aleve|benadryl|xanax|valium|klonopin|ativan|ambien|oxy\w*|percocet|vicodin|"
             r"hydrocodone|fentanyl|heroin|morphine|methadone|opioids?|painkillers?|sleeping pills|sleep aids?|"
             r"antidepressants?|insulin|lithium|seroquel|gabapentin|adderall|ritalin|vitamins?|iron|gummies|edibles?|"
             r"alcohol|vodka|whiskey|liquor|prescription|dose|doses|cocaine|meth|pot|weed")
HOUSEHOLD = (r"bleach|ammonia|cleaners?|cleaning \w+|detergent|laundry pods?|dishwasher pods?|tide pods?|pods?|"
             r"antifreeze|rat poison|poison|pesticides?|weed killer|drain cleaner|lye|lighter fluid|gasoline|kerosene|"
             r"lamp oil|nicotine|vape juice|e-liquid|batter(?:y|ies)|button batter(?:y|ies)|magnets?|mothballs|"
             r"nail polish remover|hand sanitizer|mouthwash|windshield fluid|chemicals?|fumes|coins?|screws?")
INGEST = (r"took|taken|swallowed|swallowing|ate|eaten|eating|drank|drunk|drinking|downed|chugged|popped|injected|"
          r"snorted|got into|chewed|gulped|licked|inhaled|huffed|sniffed|breathed in|mixed|gave (him|her) the wrong")
EXCESS = (r"whole|entire|all|handful|bunch|lot|lots|ton|too many|too much|\d{2,}|dozen|double|twice|triple|bottle|"
          r"box|bag|pack|strip|extra|several|fistful|more than|by accident|accidentally|by mistake|wrong|"
          r"someone else's|way too")
CHILD = (r"child|kid|kids|son|daughter|toddler|baby|infant|grandson|granddaughter|boy|girl|nephew|niece|"
         r"\d+[- ]?(?:year|yr|month)[- ]?old")
CHEST_FEELING = (r"pains?|hurts?|hurting|aches?|aching|pressure|tight|tightness|heavy|heaviness|squeez\w*|crushing|"
                 r"burning|stabbing|elephant|pounding|exploding|on fire")
FACE = r"face|mouth|smile|lips?|eyelids?|cheek"
DROOP = (r"drooping|droopy|droops|drooped|sagging|saggy|sags|sagged|crooked|uneven|lopsided|paralyzed|slack|"
         r"twisted|pulling|numb|frozen")
LIMB = r"arm|arms|leg|legs|hand|hands|foot|side|side of (?:his|her|my|the|their) body"
LIMB_WEAK = r"weak|weakness|limp|numb|numbness|dead|heavy|paralyzed|tingl\w*|floppy|useless|not working"
CANNOT_MOVE = r"(?:can not|could not|unable to|will not|does not|cannot) (?:lift|raise|move|feel|use|grip|hold)"
SPEECH = r"speech|words|talking|speaking|talk|speak|voice"
SPEECH_WRONG = r"garbled|jumbled|gibberish|wrong|funny|weird|strange|can not|could not|trouble|struggling|unable"
BREATH = r"breathing|breathe|breath|air"
BREATH_STOPPED = r"not|stopped|stop|can not|could not|barely|hardly|no longer|gasping|struggling|fighting|unable to"
BREATH_TROUBLED = (r"trouble|difficulty|hard|harder|weird|funny|strange|shallow|labored|fast|rattling|wheez\w*|"
                   r"short|problems?")
BLOOD = r"bleeding|bleeds|bled|blood|nosebleed"
BLOOD_SEVERE = (r"(?:will not|does not|can not|could not|would not|is not going to) stop|make it stop|a lot|heavily|"
                r"heavy|badly|everywhere|pouring|gushing|spurting|squirting|soaking|soaked|so much|too much|profusely|"
                r"nonstop|really bad|like crazy|all over")
FALL = r"fell|fall|falling|fallen|crash|crashed|accident|hit by|wreck|dove|diving|thrown from"

SIGNALS: tuple[Signal, ...] = (
    # --- poisoning and overdose ------------------------------------------------------------------------
    _s("overdose", r"\b(overdos(e|ed|ing)|o\.d\.?)\b"),
    _s("overdose", near(INGEST, EXCESS, 4), requires=rf"\b({SUBSTANCE}|{HOUSEHOLD}|them|it)\b"),
    _s("overdose", near(INGEST, HOUSEHOLD, 5)),
    _s("overdose", near(CHILD, INGEST, 6), requires=rf"\b({SUBSTANCE}|{HOUSEHOLD})\b"),
    _s("overdose", r"\b(poisoned|poisoning|carbon monoxide)\b"),
    # --- heart attack --------------------------------------------------------------------------------
    _s("heart_attack", r"\b(having|had|have|has|is having|am having) (a |another )?heart attack\b"),
    _s("heart_attack", near("chest", CHEST_FEELING, 4)),
    _s("heart_attack", r"\b(clutching|grabbing|holding) (my|his|her|their) chest\b"),
    _s("heart_attack", r"\b(pain|it) (is )?(going|spreading|radiating|moving|shooting) (down |up )?(in)?to "
                       r"(my|his|her|their) (left |right )?(arm|jaw|neck|shoulder|back)\b", weak=True),
    _s("heart_attack", r"\bheart (is )?(racing|pounding|beating (really )?fast)\b", weak=True),
    # --- stroke --------------------------------------------------------------------------------------
    _s("stroke", r"\b(having|had|have|has|is having|am having) (a |another |mini |a mini )?stroke\b"),
    _s("stroke", near(FACE, DROOP, 4)),
    _s("stroke", near(r"(one|left|right) side of (his|her|my|their|the) (body|face)", LIMB_WEAK + "|" + CANNOT_MOVE,
                      4)),
    _s("stroke", r"\bslurr\w+\b"),
    _s("stroke", near(SPEECH, SPEECH_WRONG, 3), weak=True),
    _s("stroke", r"\b(is|are|am|was) not making (any )?sense\b", weak=True),
    _s("stroke", near(LIMB, LIMB_WEAK + "|" + CANNOT_MOVE, 3), weak=True),
    _s("stroke", r"\b(worst headache of (my|his|her|their) life|thunderclap headache|(sudden|suddenly) (severe |"
                 r"bad |terrible )?(headache|blindness|vision loss|confusion|confused))\b"),
    _s("stroke", r"\b(can not|could not) see out of (one|my|his|her) (left |right )?eye\b", weak=True),
    # --- not breathing, unresponsive, collapsed, choking -------------------------------------------------
    _s("not_breathing", near(BREATH, BREATH_STOPPED, 2)),
    _s("not_breathing", near(BREATH, BREATH_TROUBLED, 2), weak=True),
    _s("not_breathing", r"\b(gasping|choking|turning blue|turning purple|turning gr[ae]y|turned blue)\b"),
    _s("not_breathing", r"\b(lips|face|skin) (are |is )?(turning )?(blue|purple|gr[ae]y)\b"),
    _s("not_breathing", r"\b(unconscious|unresponsive|not responding|not responsive|no pulse|no heartbeat|"
                        r"(heart|he|she) (has )?stopped beating)\b"),
    _s("not_breathing", r"\b(will not|can not|could not|does not|do not|is not) (wake|waking) (up|him|her|them)\b"),
    _s("not_breathing", r"\b(can not|could not) (wake|rouse) (him|her|them|my \w+|\w+)( up)?\b"),
    _s("not_breathing", r"\b(collapsed|passed out|fainted|blacked out|keeled over|went limp)\b"),
    _s("not_breathing", r"\b(drowning|drowned|pulled (him|her|them) out of the (pool|water|lake))\b"),
    _s("not_breathing", r"\b(i|he|she|they|my \w+) (feel like|feels like|think|thinks) (i|he|she|they) (am|is|are) "
                        r"dying\b"),
    _s("not_breathing", r"\b(is|am|are) dying\b", weak=True),
    # --- severe bleeding ------------------------------------------------------------------------------
    _s("bleeding", near(BLOOD, BLOOD_SEVERE, 4)),
    _s("bleeding", r"\b(throwing up|vomiting|coughing up|spitting up|puking) (blood|bright red)\b"),
    _s("bleeding", r"\b(stabbed|gunshot|gun shot|(was|got|been|is|am|were|just) shot|shot (me|him|her|them|"
                   r"himself|herself|myself))\b"),
    _s("bleeding", r"\b(bleeding|bleeds)\b", weak=True),
    _s("bleeding", r"\b(deep|bad|big|huge) (cut|wound|gash|laceration)\b", weak=True),
    _s("bleeding", r"\b(cut|sliced|chopped|split) (off |open )?(my|his|her|their) \w+( open| off)?\b", weak=True),
    # --- other medical emergencies ---------------------------------------------------------------------
    _s("medical", r"\b(having|had|has|is having) (a |another )?(seizure|convulsion|fit)\b"),
    _s("medical", r"\b(seizing|convulsing|will not stop shaking)\b"),
    _s("medical", r"\bthroat (is |feels )?(closing|swelling|swollen shut|tight)\b"),
    _s("medical", r"\b(tongue|lips?|face) (is |are )?(swelling|swelling up|swollen)\b", weak=True),
    _s("medical", r"\b(severe |bad )?allergic reaction\b", weak=True),
    _s("medical", r"\b(anaphyla\w+|used (my|his|her|the) epipen)\b"),
    _s("medical", near(FALL, r"(?:can not|could not) (?:feel|move)", 8)),
    _s("medical", r"\b(can not|could not) (feel|move) (my|his|her|their) (legs|arms|body|neck)\b", weak=True),
    _s("medical", r"\b(hit by a car|car accident|fell and hit (my|his|her) head|head injury)\b", weak=True),
    _s("medical", r"\b(lethargic|floppy|barely awake|hard to wake|out of it)\b", weak=True),
    _s("medical", r"\basthma attack\b", weak=True),
    _s("medical", r"\binhaler (is )?(not|is not) (working|helping)\b"),
    _s("medical", r"\bfever (of|is|at) (10[3-9]|4[0-2])\b", weak=True),
    _s("medical", r"\b(heat ?stroke|hypothermia|severe burns?|burned badly|badly burned)\b"),
    # --- pregnancy emergencies (counted only when the message speaks of a pregnancy) -------------------------
    _s("pregnancy", r"\b(water (broke|has broken|just broke)|leaking fluid)\b", weak=True),
    _s("pregnancy", near(r"baby|fetus", r"(?:not|stopped|has not|have not|hasn't) (?:moving|moved|kicking|kicked)|"
                                        r"(?:not|stopped) (?:felt|feel|feeling)", 5)),
    _s("pregnancy", r"\bcontractions\b", weak=True),
    _s("pregnancy", r"\b(bleeding|blood|spotting heavily|soaking (a|my) pad|(severe|bad|terrible|horrible|sharp|"
                    r"really bad) (pain|cramps|cramping|headache|stomach pain|belly pain)|stomach pain|abdominal pain|"
                    r"blurry vision|blurred vision|seeing spots|seizure|fainted|passed out)\b", weak=True),
    # --- violence at home --------------------------------------------------------------------------------
    _s("violence", rf"\b{PERSON_SUBJECT}( \w+){{0,2}}? (hits|hit|beats|beat|punched|punches|kicked|kicks|slapped|"
                   r"slaps|choked|chokes|strangled|strangles|pushed|shoved|attacked|raped|hurt|hurts|burned|"
                   r"threw \w+( \w+)? at|grabbed|dragged|stabbed|shot at|locked|put (his|her) hands (around|on)|"
                   r"is hurting|keeps hurting|hitting|beating|punching|kicking|choking|strangling|hurting|attacking|"
                   r"slapping|threatening) (me|us|my|the kids|the children)\b"),
    _s("violence", r"\b(threatening|threatened|threatens|threaten|said|says|swore|swears|is going|was going)"
                   r"( \w+){0,2}? (to|he will|she will|he would|she would|they will|he is going to|she is going to) "
                   r"(kill|hurt|shoot|stab|harm|beat|take) (me|us|the kids|the children|my)\b"),
    _s("violence", rf"\b{PERSON_SUBJECT} (will|is going to|are going to|would|is gonna) (kill|hurt|shoot|stab|harm) "
                   r"(me|us|the kids|the children|my (kids|children|baby|son|daughter))\b(?! (when|if|for|once))"),
    _s("violence", r"\b(i am|i feel|we are|we feel|i do not feel|we do not feel|i have been) (not )?(safe|scared|"
                   r"afraid|terrified|frightened) (at home|in my (own )?home|of (him|her|my \w+)|to go home|for my "
                   r"life|for (my|our) (life|lives|safety)|with (him|her|my \w+))\b"),
    _s("violence", r"\b(i am|we are) not safe\b"),
    _s("violence", r"\b(i am|we are|she is|he is|my \w+ (is|are)) being (abused|hurt|beaten|hit|threatened|"
                   r"attacked|stalked|choked)\b"),
    _s("violence", r"\b(is|are) (abusing|beating|hurting|attacking|threatening) (me|us|my (kids|children|mom|"
                   r"mother))\b"),
    _s("violence", r"\b(hands?|arm) (around|on) (my|her|his|our) (neck|throat)\b"),
    _s("violence", r"\b(domestic (violence|abuse)|abusive (husband|wife|partner|relationship|boyfriend|"
                   r"girlfriend))\b", weak=True),
    _s("violence", r"\b(has|with|got|grabbed|pulled) a (gun|knife|weapon)\b", weak=True),
    _s("violence", r"\b(hiding|locked myself) (in|from)\b", weak=True),
    _s("violence", r"\b(banging on|breaking down|trying to break) (the|my) (door|window)\b", weak=True),
    _s("violence", rf"\b{PERSON_SUBJECT} (will not|does not|would not) let me (leave|go|see|call|have)\b", weak=True),
    _s("violence", r"\b(took|takes|hid|hides|smashed|broke) my (phone|keys|car keys|money|id)\b", weak=True),
    # --- suicidal thoughts, direct and indirect -----------------------------------------------------------
    _s("suicidal", r"\b(kill|killing|killed) (myself|me)\b"),
    _s("suicidal", r"\b(suicidal|suicide)\b(?! (attempt|note))"),
    _s("suicidal", r"\b(end|ending|take|taking) (my|his|her) (own )?life\b"),
    _s("suicidal", r"\b(end|ending) (it all|everything|things|it)\b(?! (with|between|early|on|at|by|for))"),
    _s("suicidal", r"\b(want|wanted|wanting|going|ready|wish i could|wish i was|wish i were|like|plan) to (die|"
                   r"be dead|not exist|stop existing|not be alive|not be here|be gone|disappear forever|"
                   r"vanish forever)\b"),
    _s("suicidal", r"\b(wish|wishing) (i|that i) (was|were|had) (dead|never been born|not born|gone|not here|"
                   r"not alive|not around)\b"),
    _s("suicidal", r"\b(rather|better) (be )?(dead|die)\b"),
    _s("suicidal", r"\b(better off|happier|easier|fine|better) (dead|without me|if i (was|were|am) (not|gone|dead|"
                   r"never))\b"),
    _s("suicidal", r"\b(would|will) (all )?be (better off|happier|fine) (if|without)\b"),
    _s("suicidal", r"\b(no|not any|not a|do not see the|do not see any|what is the|what is even the|what is the "
                   r"whole) (point|reason|use|purpose)\b.{0,25}\b(going on|go on|living|to live|being alive|being here|"
                   r"carrying on|keep going|keep living|waking up|wake up|anything anymore|trying anymore|it all|life|"
                   r"anything|any ?more|existing)\b", negation_inside=True),
    _s("suicidal", r"\bnothing (left )?to live for\b", negation_inside=True),
    _s("suicidal", r"\b(life|living) (is not|is no longer|not) worth (it|living)\b", negation_inside=True),
    _s("suicidal", r"\b(do not|never|did not) want to (live|be alive|be here|exist|wake up|go on)\b",
       negation_inside=True),
    _s("suicidal", r"\b(not|never) (to )?wake up (again|tomorrow|ever)?\b", negation_inside=True, weak=True),
    _s("suicidal", r"\b(go to sleep|sleep|fall asleep) (and |forever and )?(not|never) wake up\b",
       negation_inside=True),
    _s("suicidal", r"\bsleep forever\b"),
    _s("suicidal", r"\b(disappear|vanish) (forever|for good|and never come back|permanently)\b"),
    _s("suicidal", r"\b(want|wish|wanted) (it|everything|it all|this|all of it) to (stop|end|be over) (for good|"
                   r"forever|permanently)\b"),
    _s("suicidal", r"\b(want|wish|wanted) (it|everything|it all|all of it) to (stop|end|be over)\b", weak=True),
    _s("suicidal", r"\b(can not|could not) (go on|keep going|do this anymore|take (it|this) anymore|live like this)\b",
       negation_inside=True, weak=True),
    _s("suicidal", r"\b(nobody|no one|none of them) (would|will) (even )?(notice|care|miss me)\b",
       negation_inside=True),
    # Not being here: "I won't be around much longer", "I'm not going to be here to pay", "when I'm gone";
    # not a trip or a job ending ("I won't be around next week, I'm traveling", "won't be on the plan").
    _s("suicidal", r"\b(will not|would not|am not going to|not going to) be (here|around|alive|a (problem|burden) "
                   r"(for|to) (anyone|anybody|you|them))\b(?! (next|this|on|for (a|the|two|\d)|during|until|at|over|"
                   r"while|because i am (traveling|moving|working|away)))", negation_inside=True),
    _s("suicidal", r"\b(sorry|miss me|notice|happy|happier|relieved) when i am gone\b|\bafter i am gone\b"),
    _s("suicidal", r"\b(stop|to stop|not) (existing|exist)\b|\bnot exist anymore\b", negation_inside=True),
    _s("suicidal", r"\b(ways|how) to (die|kill myself|end (it|my life)|overdose)\b"),
    _s("suicidal", r"\b(want|need|wish) (the |this |my |all the )?(pain|hurt|suffering) to (stop|end|go away) "
                   r"(forever|for good|permanently)\b"),
    _s("suicidal", r"\bbetter off\b.{0,50}\bthan (with )?me\b"),
    _s("suicidal", r"\b(said|saying|say) (my )?goodbyes?( to (everyone|everybody|my))?\b"),
    _s("suicidal", r"\b(my last (night|day|goodbye|message|day alive|day on earth)\b(?! (at|of|on) (work|the job|"
                   r"my job|school))|(tonight|today|this weekend) is (my|the) last)"),
    _s("suicidal", r"\b(made up my mind|decided|i am ready)\b.{0,50}\b(tonight|end (it|things|my life)|die|last "
                   r"(night|day)|say goodbye|not (going to )?be (here|around))\b", negation_inside=True),
    _s("suicidal", r"\b(bought|got|have|buying|getting) a (gun|rope|firearm)\b.{0,60}\b(myself|end it|die|use it)\b|"
                   r"\buse it on myself\b"),
    _s("suicidal", r"\b(take|taking|swallow|going to take) all (of )?my (pills|meds|medications?|medicine)\b"),
    _s("suicidal", r"\b(written|wrote|writing) (my|a) (will|note|suicide note|goodbye)\b", weak=True),
    _s("suicidal", r"^\s*i am done\b|\bi am done with (it all|everything|life)\b", weak=True),
    _s("suicidal", r"\b(goodbye|suicide|farewell) (letters?|notes?|messages?)\b"),
    _s("suicidal", r"\b(giving|gave) away (all )?(my|of my) (things|stuff|belongings)\b"),
    _s("suicidal", r"\b(have|made|got) a plan to (die|end|kill|do it)\b"),
    _s("suicidal", rf"\b(saving|saved|stockpiling|hoarding|stashed|stashing) (up )?(my |all my )?({SUBSTANCE}|"
                   r"a gun|a rope)\b|\b(" + SUBSTANCE + r") (saved|stashed|stockpiled) (up)?\b"),
    _s("suicidal", r"\b(tried|try|trying|attempted|attempt) to (kill|end|off) (myself|my life|it)\b", act=True),
    _s("suicidal", r"\b(attempted suicide|suicide attempt)\b", act=True),
    _s("suicidal", r"\b(jump|jumping) (off|in front of) (a|the) (bridge|building|roof|train|cliff|car)\b"),
    _s("suicidal", r"\b(hang|hanging|shoot|shooting|drown) myself\b"),
    _s("suicidal", r"\btired of (living|being alive|life|existing)\b"),
    _s("suicidal", r"\b(done with|finished with) (life|living|everything|it all|this life)\b"),
    _s("suicidal", r"\b(not sure|do not know if) (i )?(want to|can) (live|go on|keep going)\b", negation_inside=True),
    _s("suicidal", r"\bthis is (my last message|goodbye)\b"),
    _s("suicidal", r"\b(want|wanting|going) to disappear\b", weak=True),
    _s("suicidal", r"\b(i am|i feel like|i feel) (such )?a burden\b", weak=True),
    _s("suicidal", r"\bhate (my life|myself|being alive)\b", weak=True),
    _s("suicidal", r"\bwant out\b(?! of)", weak=True),
    _s("suicidal", r"\bwhen i am ready\b", weak=True),
    # --- self-harm --------------------------------------------------------------------------------
    _s("self_harm", r"\b(cut|cutting|burn|burning|burned|burnt|hurt|hurting|harm|harming|hit|hitting|punch|punching|"
                    r"scratch|scratching|starve|starving|carve|carving|punish|punishing) (myself|my (wrists?|arms?|"
                    r"legs?|thighs?|skin))\b"),
    _s("self_harm", r"\bself-harm(ing)?\b"),
    _s("self_harm", r"\b(urge|urges|want|wanting|need) to (cut|self-harm|hurt myself|burn myself)\b"),
    _s("self_harm", r"\b(on purpose|deliberately|intentionally)\b", weak=True),
    _s("self_harm", r"\b(razor|blade|knife) (is )?in my hand\b"),
    _s("self_harm", r"\brelapsed\b", weak=True),
)

# Pregnancy signals count only when the message speaks of a pregnancy; then any of them is urgent, and
# bleeding or a seizure in a pregnancy is a pregnancy emergency.
PREGNANCY_CONTEXT = re.compile(r"(\b(pregnant|pregnancy|weeks along|months along|trimester|weeks pregnant|"
                               r"my water|expecting (a baby|twins))\b|^\s*(i am |she is )?\d{1,2} weeks\b|"
                               r"\bat \d{1,2} weeks\b)")

# Words that make a weak sign urgent: it is happening right now, or came on suddenly.
URGENT_NOW = re.compile(r"\b(right now|suddenly|sudden|all of a sudden|just now|please help|help me|hurry|"
                        r"what do i do|what should i do|(minutes|an hour) ago|tonight)\b")
# Words that keep an event in the present even when the sentence also speaks of the past.
STILL_HAPPENING = re.compile(r"\b(right now|currently|at the moment|tonight|this (morning|afternoon|evening)|again|"
                             r"(minutes|an hour|hours) ago|(is|are) (coming|on (his|her|their) way) back)\b")
# Words that put a situation into the past.
DISTANT_PAST = re.compile(
    r"\b(last (week|month|year|spring|summer|fall|autumn|winter|christmas|time)|(\d+|a|an|one|two|three|four|five|six|"
    r"seven|eight|nine|ten|several|few|couple of|couple) (weeks?|months?|years?) ago|years ago|in (january|february|"
    r"march|april|may|june|july|august|september|october|november|december|19\d\d|20\d\d)|back in|as a (kid|child|"
    r"teen|teenager)|when (i|he|she) was (a |younger|little|in)|history of|previous(ly)?|used to|in the past|"
    r"earlier this (year|month)|over the (summer|winter|holidays)|recovering from|recovered from|survived|"
    r"in recovery|since (my|his|her) \w+)\b")
# Words that say the event is already in the hands of care, or of billing.
RESOLVED = re.compile(
    r"\b(went to the (er|hospital|emergency room|urgent care)|was (admitted|hospitalized|discharged|treated|seen|"
    r"taken|transported)|were (admitted|seen)|ended up|turned out|billed|charged|invoice|got (a|an|the) (\w+ )?bill|"
    r"(the|a|an) (\w+ )?bill (just )?(came|arrived|is|was|says|for)|sent (me|us) (a|an|the) (\w+ )?bill|eob|"
    r"explanation of benefits|claim (was|got|is|has been) denied|denied (the|my|our) claim|reimburs\w+|"
    r"collections|paid)\b")
# Bodily signs that are chronic or routine, not an emergency now; habits of taking medicine, not an overdose.
NOT_ACUTE = re.compile(r"\b(sometimes|occasionally|on and off|every now and then|when i (exercise|work out|run)|"
                       r"for (weeks|months|years)|chronic|every (day|night|morning)|each (day|night)|daily|"
                       r"(a|per) day|as prescribed|prescribed|refills?|supply|at night|while (i|he|she) sleeps?|"
                       r"sleep apnea|snoring|snores|hospice|terminal|palliative|cancer)\b")
HYPOTHETICAL = re.compile(r"\b(if|in case|what if|whether|signs of|symptoms of|warning signs|how do (i|you) (know|"
                          r"tell)|what (are|is) the (signs|symptoms))\b")
# A condition named as the subject of a coverage question ("an ER visit for chest pain"): a topic.
ABOUT = re.compile(r"\b(for|about|of|regarding|after|with)( \w+)?\s*$")
COVERAGE_WORDS = re.compile(r"\b(cover|covers|covered|coverage|pay for|pays for|insurance|plan|bill|billed|cost|"
                            r"costs|copay|deductible|in network|in-network|prior auth\w*|claim|referral|doctor|"
                            r"specialist|cardiologist|neurologist|appointment)\b")

# Figures of speech and compounds: removed before any signal is looked for.
FIGURES_OF_SPEECH = tuple(re.compile(p) for p in (
    r"\b(bills?|deductibles?|premiums?|insurance|insurance company|costs?|prices?|copays?|paperwork|this|that|it|"
    r"work|job|boss|back|feet|knees?|head|neck|stress|waiting|heat|commute|company|process|hold music|debt|"
    r"the \w+)( (is|are|was|were|will|would|really|literally|absolutely|just|slowly|going to|gonna|be)){0,3} "
    r"(killing|kill|murdering) (me|us|him|her)\b",
    r"\b(killed|crushed|nailed|slayed|murdered) it\b",
    r"\b(dying|dieing) (to|for) \w+",
    r"\b(phone|battery|car|plant|plants|laptop|computer) (is )?dying\b",
    r"\b(nearly|almost|could have|about to|going to|gonna)? ?(die|died|dying) (of|from)? ?(laughter|laughing|"
    r"embarrassment|shock|boredom)\b",
    r"\b(bleeding|bled|bleed) (me|us|them|him|her|you|people|patients) dry\b",
    r"\b(bleeding|bleed) (money|cash|out money)\b",
    r"\b(drowning|drown|buried) in (debt|bills|paperwork|medical bills|forms|payments|medical debt)\b",
    r"\b(is|are) drowning (me|us)\b",
    r"\b(almost|nearly|practically|about to|going to|gonna|would|will|could) (have|had|give|gave|giving) "
    r"(me |him |her |us )?(a )?(heart attack|stroke|aneurysm)\b",
    r"\b(heart attack|stroke|aneurysm)( \w+){0,3} when (i|we|he|she) (saw|opened|got|read|looked)",
    r"\b(my )?heart (stopped|sank|dropped|skipped a beat) when\b",
    r"\b(fainted|passed out|died|collapsed|had a heart attack|had a stroke) when (i|we|he|she) (saw|opened|got|read|"
    r"looked at) (the|my|this|our|that) (\w+ )?(bill|eob|statement|price|quote|premium|estimate|invoice)\b",
    r"\bover my dead body\b",
    r"\bto die for\b",
    r"\b(not|never) going to die (over|from|of) (it|this|that)\b",
    r"\b(i will|i would|i could|i am going to|gonna|he will|she will|he is going to|she is going to) kill "
    r"(him|her|them|me|my \w+) (when|if|for|once)\b",
    r"\bkill (me|us) (at work|if|when|for)\b",
    r"\bblood (pressure|sugar|tests?|work|draw|panel|glucose|type|donation|bank|thinners?|clots?|count|levels?|"
    r"pressure pills)\b",
    r"\bbreathing (machine|treatment|treatments|test|tests|therapy|exercises)\b",
    r"\b(chest (x-?ray|ct|scan|tube))\b",
))
# Topics, not events: a question about a kind of care or a program names a crisis word without one happening.
TOPICS = tuple(re.compile(p) for p in (
    r"\b(suicide|self-harm|overdose|crisis|stroke|heart attack|cardiac|domestic violence|abuse|seizure|poison|"
    r"poison control) (prevention|hotline|lifeline|line|awareness|risk|screening|assessment|watch|survivors?|"
    r"programs?|treatment|counseling|therapy|rehab|rehabilitation|recovery|unit|center|clinic|follow[- ]?up|"
    r"services|shelters?|advocates?|medications?|medicines?|drugs?|reversal|kits?|specialists?|neurologist|"
    r"education|classes|support|groups?)\b",
    r"\b(therapy|counseling|treatment|care|rehab|program|medication) (for|after) (a |an |my |his |her |their )?"
    r"(suicide attempt|suicidal thoughts|suicidal ideation|self-harm|overdose|stroke|heart attack|seizure|"
    r"domestic violence)s?\b",
    r"\b(narcan|naloxone|epipen|epi-pen)\b",
))
