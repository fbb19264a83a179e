"""Reading volunteers' SMS replies as people write them: yes and no in their many forms, a call-up
reference or an ETA, the status words of a deployment, OK to a welfare check, and keywords.

The reader is strict where it matters: every word must be one it knows, and a message that mixes yes
and no, hedges ("yes but not today", "maybe"), laughs or carries words it does not know next to a yes is
AMBIGUOUS, never a YES. It cannot know the volunteer's open call-ups, so a bare number after YES ("YES
20") is returned as `number`: the caller decides whether it is a reference or an ETA in minutes.
"""

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum


class ReplyIntent(StrEnum):
    """What a reply asks for."""

    YES = "YES"
    NO = "NO"
    STOP = "STOP"
    START = "START"
    HELP = "HELP"
    JOIN = "JOIN"  # from a phone we do not know: send the sign-up link
    PAUSE = "PAUSE"  # no call-ups for `days` days, until `until` (day, month), or until BACK
    BACK = "BACK"  # end a pause
    STATUS = "STATUS"  # what we hold: active or paused, skills, open call-ups
    LEAVE = "LEAVE"  # erase me
    PASSPORT = "PASSPORT"  # text me a link to my passport
    EMERGENCIES_ONLY = "EMERGENCIES_ONLY"  # call me for emergencies, not organisations' other asks
    ALL_ASKS = "ALL_ASKS"  # call me for organisations' other asks too (undoes EMERGENCIES ONLY)
    ETA = "ETA"  # only minutes ("20 mins"): an ETA for a confirmed call-up, not a YES
    ENROUTE = "ENROUTE"
    ARRIVED = "ARRIVED"
    LATE = "LATE"
    DONE = "DONE"
    OK = "OK"  # the answer to a welfare check
    AMBIGUOUS = "AMBIGUOUS"  # could be yes or no, hedged, or a yes among words we cannot read
    UNKNOWN = "UNKNOWN"


@dataclass(frozen=True)
class Reply:
    """A parsed reply.

    ref: a number that can only be a call-up reference ("NO 14", "YES 14 ETA 20", "ARRIVED 14").
    number: a bare number after YES or ON MY WAY, a reference or an ETA in minutes (the caller decides
    with the volunteer's call-ups). minutes: an ETA (YES, ENROUTE, ETA) or how late (LATE).
    enroute: a YES that also says "on my way". safe: a check-in that also says "home safe".
    days / until: how long a PAUSE lasts (neither: until BACK). A PAUSE the reader cannot place (PAUSE
    UNTIL 31 FEB, PAUSE 0D) is UNKNOWN, so the volunteer is asked again rather than paused wrongly.
    """

    intent: ReplyIntent
    ref: int | None = None
    number: int | None = None
    minutes: int | None = None
    enroute: bool = False
    safe: bool = False
    days: int | None = None  # PAUSE 7D, PAUSE 2W, PAUSE FOR A WEEK
    until: tuple[int, int] | None = None  # PAUSE UNTIL 24 DEC: (day, month), the caller finds the year
    code: str | None = None  # LEAVE 123456: the one-time code that confirms it (leading zeros kept)


# Twilio's default opt-out and opt-in keywords (REVOKE and OPTOUT joined the opt-out list in 2025).
# Twilio also treats a bare YES as opt-in; for us YES answers a call-up, so it is kept out of
# OPT_IN_WORDS and listed in TWILIO_OPT_IN_WORDS only.
OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
OPT_IN_WORDS = frozenset({"START", "UNSTOP"})
TWILIO_OPT_IN_WORDS = OPT_IN_WORDS | {"YES"}
HELP_WORDS = frozenset({"HELP", "INFO"})
JOIN_WORDS = frozenset({"JOIN"})

MAX_REF_DIGITS = 9  # references are short; a long number is a phone number or a typo, not a ref
MAX_ETA_MINUTES = 600  # a longer "ETA" is more likely a mistyped reference than a ten-hour drive


class _Cue(StrEnum):
    YES = "yes"
    NO = "no"
    ENROUTE = "enroute"
    ARRIVED = "arrived"
    LATE = "late"
    DONE = "done"
    OK = "ok"  # ok, fine, all good: agreement, or the answer to a welfare check
    SAFE = "safe"  # safe, home: only ever the answer to a welfare check
    HEDGE = "hedge"  # but, if, maybe, lol: a yes next to it is not a yes
    FILLER = "filler"  # politeness and greetings
    ETA = "eta"  # eta, in, about: the number after it is minutes
    REF = "ref"  # ref, #, call-up: the number after it is a reference
    MINUTES = "minutes"  # a unit after a number
    HOURS = "hours"


def _phrases(cue: _Cue, texts: str) -> dict[tuple[str, ...], _Cue]:
    """Phrases separated by commas, each a run of words."""
    return {tuple(t.split()): cue for t in texts.split(",")}


# Words are lower case with apostrophes removed ("can't" is "cant", "I'm" is "im"); the longest phrase
# that matches is read, so "cant come" is a no and "no problem" only politeness.
_LEXICON: dict[tuple[str, ...], _Cue] = {
    **_phrases(
        _Cue.YES,
        "yes, y, ye, yeah, yea, yeh, yep, yup, ya, yah, yas, aye, sure, yessir, affirmative, absolutely, "
        "definitely, deffo, certainly, of course, ofc, accept, count me in, im in, i am in, coming, im "
        "coming, i am coming, i can come, can come, i can, can do, i can do, i can do it, i can make it, "
        "can make it, i can go, i will come, ill come, i will go, will go, going, im going, be there, ill "
        "be there, i will be there, will be there, available, im available, i am available, happy to, "
        "happy to help, glad to help, willing, i can help, can help, go, yes please",
    ),
    **_phrases(
        _Cue.NO,
        "no, n, nope, nah, na, naw, negative, not, cant, cannot, can not, unable, not available, "
        "unavailable, im not available, i am not available, not able, cant make it, cant come, cant do "
        "it, cant go, i cant, i cannot, cannot make it, cant do, no can do, wont make it, i wont make it, "
        "not coming, im not coming, decline, pass, busy, im busy, i am busy, at work, working, away, on "
        "holiday, not possible, not this time, no thanks, no thank you, no ta, sorry no, cant today, not "
        "today, wont be able to, i wont be able to, unable to, not able to",
    ),
    **_phrases(
        _Cue.ENROUTE,
        "enroute, en route, on my way, omw, on the way, on way, leaving now, setting off, heading there, "
        "heading over, heading out, im on my way, i am on my way, travelling",
    ),
    **_phrases(
        _Cue.ARRIVED,
        "arrived, ive arrived, i have arrived, here, im here, i am here, on site, onsite, at rendezvous, "
        "at the rendezvous, at rv, at the rv, on scene, at scene, at the scene, checked in, check in, "
        "checking in",
    ),
    **_phrases(
        _Cue.LATE,
        "late, running, running late, im late, i am late, im running late, i am running late, delayed, "
        "will be late, ill be late, i will be late, stuck in traffic, in traffic, held up",
    ),
    **_phrases(
        _Cue.DONE,
        "done, finished, all done, im done, i am done, im finished, i am finished, finished now, done "
        "now, leaving site, left site, off duty, stood down, signing off, heading home, going home, job "
        "done, complete, completed, on my way home, on the way home, omw home, heading back, going home "
        "now, im on my way home",
    ),
    **_phrases(
        _Cue.OK,
        "ok, okay, okey, okie, k, kk, fine, all good, alright, all ok, im ok, i am ok, im okay, i am "
        "okay, im fine, i am fine, all fine, good, im good, i am good, all well, well",
    ),
    **_phrases(
        _Cue.SAFE,
        "safe, home, home safe, safe home, safe and home, safe and well, im safe, i am safe, im home, i "
        "am home, back home, home now, safe and sound, safely home, home safely, got home, im back, i am "
        "back, back safe, safe and home now",
    ),
    **_phrases(
        _Cue.HEDGE,
        "but, if, maybe, perhaps, possibly, probably, might, may, unless, not sure, unsure, dunno, dont "
        "know, depends, only, after, later, tomorrow, when, what, why, who, where, which, how, lol, lmao, "
        "haha, hahaha, jk, kidding, joke, joking, yeah right, as if, yeah no, no yeah, sort of, kind of, "
        "kinda, ish, or, until, till, before, at, hope, hopefully, try, ill try, i will try, will try, "
        "trying, wish, would, could, should, need, question, tonight, morning, afternoon, evening",
    ),
    **_phrases(
        _Cue.FILLER,
        "please, pls, plz, thanks, thank you, thankyou, thx, ty, ta, cheers, sorry, soz, apologies, hi, "
        "hello, hey, hiya, morning all, mate, x, xx, xxx, no problem, no problems, no worries, no probs, "
        "no prob, np, great, cool, grand, brilliant, lovely, nice, thanks for asking, for letting me "
        "know, see you soon, see you there, see you, cya, will do, ill, and, i, im, i am, to, the, now, "
        "just, a, so, very, much, really, all, again, too, also, oh, right, roger, received, understood, "
        "noted, copy, got it, for, it, you, me",
    ),
    **_phrases(
        _Cue.ETA,
        "eta, in, about, around, approx, approximately, roughly, within",
    ),
    **_phrases(
        _Cue.REF,
        "ref, reference, callout, call out, call up, callup, incident, nvr, number",
    ),
    **_phrases(
        _Cue.MINUTES,
        "m, min, mins, minute, minutes, mn, mns",
    ),
    **_phrases(
        _Cue.HOURS,
        "h, hr, hrs, hour, hours",
    ),
}
# "half an hour" and the like are minutes without digits.
_SPOKEN_MINUTES: dict[tuple[str, ...], int] = {
    ("half", "an", "hour"): 30,
    ("half", "hour"): 30,
    ("an", "hour"): 60,
    ("a", "quarter", "of", "an", "hour"): 15,
    ("quarter", "of", "an", "hour"): 15,
    ("quarter", "hour"): 15,
    ("ten", "minutes"): 10,
    ("ten", "mins"): 10,
    ("five", "minutes"): 5,
    ("five", "mins"): 5,
    ("twenty", "minutes"): 20,
    ("twenty", "mins"): 20,
    ("fifteen", "minutes"): 15,
    ("fifteen", "mins"): 15,
    ("thirty", "minutes"): 30,
    ("thirty", "mins"): 30,
}
_LONGEST = max(len(p) for p in [*_LEXICON, *_SPOKEN_MINUTES])

# Emoji read as words; the skin tone and presentation marks are dropped before.
_EMOJI = {
    "👍": "yes",
    "✅": "yes",
    "✔": "yes",
    "☑": "yes",
    "🆗": "ok",
    "👌": "ok",
    "👎": "no",
    "❌": "no",
    "❎": "no",
    "✖": "no",
    "🚫": "no",
    "⛔": "no",
    "🏠": "home",
    "🏡": "home",
    "🚗": "on my way",
    "🏃": "on my way",
    "🙏": "thanks",
    "😊": "thanks",
    "🙂": "thanks",
    "😀": "thanks",
    "😃": "thanks",
    "😄": "thanks",
    "😁": "thanks",
    "☺": "thanks",
    "❤": "thanks",
    "♥": "thanks",
    "💪": "thanks",
    "👋": "hi",
    "😂": "lol",
    "🤣": "lol",
    "😆": "lol",
    "😅": "lol",
    "🙄": "lol",
    "😉": "lol",
    "😜": "lol",
    "😏": "lol",
    "🤔": "maybe",
    "🤷": "maybe",
}
_MODIFIERS = re.compile("[\ufe0e\ufe0f\u200d\U0001f3fb-\U0001f3ff\u2640\u2642]")
_APOSTROPHES = re.compile("['\u2019\u2018`\u00b4]")
_HASH_REF = re.compile(r"#(?=\s*\d)")  # "#14" names a reference
# Words, numbers, and any other symbol as a token of its own (punctuation is dropped after).
_TOKEN = re.compile(r"[^\W\d_]+|\d+|[^\w\s]")
_REPEATS = re.compile(r"([a-z])\1+")


def _tokens(body: str) -> list[str]:
    text = _HASH_REF.sub(" ref ", _APOSTROPHES.sub("", _MODIFIERS.sub("", body)).lower())
    for emoji, words in _EMOJI.items():
        text = text.replace(emoji, f" {words} ")
    # Punctuation and signs only separate words; an emoji we do not know stays, as a word we cannot read.
    return [t for t in _TOKEN.findall(text) if unicodedata.category(t[0])[:2] not in _SEPARATORS]


_SEPARATORS = {"Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Sm", "Sc", "Sk"}


def _word(token: str) -> str:
    """The token, or its letters un-doubled when only that form is known ("yesss", "noooo", "okk")."""
    if (token,) in _LEXICON or token.isdigit():
        return token
    single = _REPEATS.sub(r"\1", token)
    return single if (single,) in _LEXICON else token


@dataclass
class _Reading:
    cues: list[_Cue]
    numbers: list[tuple[int, _Cue | None]]  # each number and what it was marked as (ETA, REF, MINUTES)
    unknown: list[str]
    too_long: bool = False


def _read(tokens: list[str]) -> _Reading:
    words = [_word(t) for t in tokens]
    reading = _Reading(cues=[], numbers=[], unknown=[])
    marker: _Cue | None = None  # ETA or REF just before a number says what the number is
    i = 0
    while i < len(words):
        if words[i].isdigit():
            digits = words[i].lstrip("0") or "0"
            unit = _LEXICON.get((words[i + 1],)) if i + 1 < len(words) else None
            if len(digits) > MAX_REF_DIGITS:
                reading.too_long = True
            elif unit in (_Cue.MINUTES, _Cue.HOURS):
                reading.numbers.append((int(digits) * (60 if unit is _Cue.HOURS else 1), _Cue.MINUTES))
                i += 1
            else:
                reading.numbers.append((int(digits), _Cue.MINUTES if marker is _Cue.ETA else marker))
            marker = None
            i += 1
            continue
        for size in range(min(_LONGEST, len(words) - i), 0, -1):
            phrase = tuple(words[i : i + size])
            if phrase in _SPOKEN_MINUTES:
                reading.numbers.append((_SPOKEN_MINUTES[phrase], _Cue.MINUTES))
                marker = None
                i += size
                break
            if phrase in _LEXICON:
                cue = _LEXICON[phrase]
                reading.cues.append(cue)
                marker = cue if cue in (_Cue.ETA, _Cue.REF) else None
                i += size
                break
        else:
            reading.unknown.append(words[i])
            marker = None
            i += 1
    return reading


_STATUS = {
    _Cue.ENROUTE: ReplyIntent.ENROUTE,
    _Cue.ARRIVED: ReplyIntent.ARRIVED,
    _Cue.LATE: ReplyIntent.LATE,
    _Cue.DONE: ReplyIntent.DONE,
}
_ANSWERS = {_Cue.YES, _Cue.NO, _Cue.OK, _Cue.SAFE, *_STATUS}


def _keyword(tokens: list[str]) -> Reply | None:
    """STOP, START, HELP and JOIN only as the whole message (one word, maybe with punctuation)."""
    if len(tokens) != 1:
        return None
    word = tokens[0].upper()
    if word in OPT_OUT_WORDS:
        return Reply(ReplyIntent.STOP)
    if word in OPT_IN_WORDS:
        return Reply(ReplyIntent.START)
    if word in HELP_WORDS:
        return Reply(ReplyIntent.HELP)
    if word in JOIN_WORDS:
        return Reply(ReplyIntent.JOIN)
    return None


_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            "jan january",
            "feb february",
            "mar march",
            "apr april",
            "may",
            "jun june",
            "jul july",
            "aug august",
            "sep sept september",
            "oct october",
            "nov november",
            "dec december",
        ),
        start=1,
    )
    for name in names.split()
}
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_UNITS = {"d": 1, "day": 1, "days": 1, "w": 7, "wk": 7, "wks": 7, "week": 7, "weeks": 7}
# Only these: "I'm back" already answers a welfare check ("home safe"), so it is not a BACK.
_BACK = {("back",), ("resume",), ("unpause",), ("back", "on")}
_EMERGENCIES_ONLY = {("emergencies", "only"), ("emergency", "only")}
_ALL_ASKS = {("all", "asks")}
CODE_DIGITS = 6  # LEAVE 123456
MAX_PAUSE_DAYS = 366  # a longer pause is leaving: STOP or LEAVE say that honestly


def _command(tokens: list[str]) -> Reply | None:
    """The volunteer's own commands, each only as the whole message: PAUSE [7D | 2W | UNTIL 24 DEC],
    BACK, STATUS, PASSPORT, LEAVE [code], EMERGENCIES ONLY, ALL ASKS. A PAUSE we cannot place is UNKNOWN
    (asked again, never paused wrongly)."""
    if tuple(tokens) in _BACK:
        return Reply(ReplyIntent.BACK)
    if tuple(tokens) in _EMERGENCIES_ONLY:
        return Reply(ReplyIntent.EMERGENCIES_ONLY)
    if tuple(tokens) in _ALL_ASKS:
        return Reply(ReplyIntent.ALL_ASKS)
    if tokens == ["status"]:
        return Reply(ReplyIntent.STATUS)
    if tokens == ["leave"]:
        return Reply(ReplyIntent.LEAVE)
    if tokens == ["passport"]:
        return Reply(ReplyIntent.PASSPORT)
    if len(tokens) == 2 and tokens[0] == "leave" and tokens[1].isdigit() and len(tokens[1]) == CODE_DIGITS:
        return Reply(ReplyIntent.LEAVE, code=tokens[1])
    if not tokens or tokens[0] != "pause":
        return None
    return _pause(tokens[1:])


def _pause(rest: list[str]) -> Reply:
    if not rest:
        return Reply(ReplyIntent.PAUSE)
    if rest[0] == "for":
        rest = rest[1:]
    if rest[:1] == ["a"] and len(rest) == 2 and rest[1] in _UNITS:
        return Reply(ReplyIntent.PAUSE, days=_UNITS[rest[1]])
    if len(rest) == 2 and rest[0].isdigit() and rest[1] in _UNITS:
        days = int(rest[0]) * _UNITS[rest[1]]
        return (
            Reply(ReplyIntent.PAUSE, days=days) if 0 < days <= MAX_PAUSE_DAYS else Reply(ReplyIntent.UNKNOWN)
        )
    if rest[0] == "until" and len(rest) == 3 and rest[1].isdigit():
        day = int(rest[1])
        month = int(rest[2]) if rest[2].isdigit() else _MONTHS.get(rest[2])
        if month is not None and 1 <= month <= 12 and 1 <= day <= _DAYS_IN_MONTH[month - 1]:
            return Reply(ReplyIntent.PAUSE, until=(day, month))
    return Reply(ReplyIntent.UNKNOWN)


def parse_reply(body: str) -> Reply:
    """Read a reply; anything not clearly one answer is AMBIGUOUS or UNKNOWN, for a person to read."""
    tokens = _tokens(body)
    keyword = _keyword(tokens) or _command(tokens)
    if keyword is not None:
        return keyword
    reading = _read(tokens)
    cues = set(reading.cues) - {_Cue.FILLER, _Cue.ETA, _Cue.REF, _Cue.MINUTES, _Cue.HOURS}
    answers = cues & _ANSWERS
    if _Cue.HEDGE in cues or (reading.unknown and answers):
        return Reply(ReplyIntent.AMBIGUOUS)
    if reading.unknown:
        return Reply(ReplyIntent.UNKNOWN)
    if reading.too_long:
        return Reply(ReplyIntent.UNKNOWN)
    intent = _intent(answers)
    if intent is None:
        return Reply(ReplyIntent.AMBIGUOUS if answers else ReplyIntent.UNKNOWN)
    if intent is ReplyIntent.UNKNOWN and not reading.numbers:
        return Reply(ReplyIntent.UNKNOWN)
    return _with_numbers(intent, reading.numbers, answers)


def _intent(answers: set[_Cue]) -> ReplyIntent | None:
    """The one intent these cues make, UNKNOWN for none, None when they contradict each other."""
    statuses = answers & set(_STATUS)
    if _Cue.NO in answers:
        return ReplyIntent.NO if answers == {_Cue.NO} else None
    if {_Cue.ENROUTE, _Cue.LATE} <= statuses:
        statuses -= {_Cue.ENROUTE}
    if len(statuses) > 1:
        return None
    if statuses:
        status = _STATUS[statuses.pop()]
        if _Cue.YES in answers:
            return ReplyIntent.YES if status is ReplyIntent.ENROUTE else None
        return status
    if _Cue.SAFE in answers:
        return ReplyIntent.OK
    if _Cue.YES in answers:
        return ReplyIntent.YES
    if _Cue.OK in answers:
        return ReplyIntent.OK
    return ReplyIntent.UNKNOWN


def _with_numbers(intent: ReplyIntent, numbers: list[tuple[int, _Cue | None]], answers: set[_Cue]) -> Reply:
    """Place the numbers: references, minutes, or a bare number the caller must place."""
    refs = [n for n, mark in numbers if mark is _Cue.REF]
    minutes = [n for n, mark in numbers if mark is _Cue.MINUTES]
    bare = [n for n, mark in numbers if mark is None]
    enroute = intent is ReplyIntent.YES and _Cue.ENROUTE in answers
    safe = _Cue.SAFE in answers and intent is not ReplyIntent.OK
    if intent is ReplyIntent.UNKNOWN:
        # Only minutes ("20 mins", "ETA 20"): an ETA, which is never a YES by itself.
        if minutes and not bare and not refs and len(minutes) == 1:
            return Reply(ReplyIntent.ETA, minutes=_eta(minutes[0]))
        return Reply(ReplyIntent.UNKNOWN)
    if intent is ReplyIntent.LATE and bare and not minutes:
        minutes, bare = bare[:1], bare[1:]
    if len(refs) + len(bare) > 1 or len(minutes) > 1:
        return Reply(ReplyIntent.UNKNOWN)
    if minutes and intent not in (ReplyIntent.YES, ReplyIntent.ENROUTE, ReplyIntent.LATE):
        return Reply(ReplyIntent.UNKNOWN)
    if minutes and _eta(minutes[0]) is None:
        return Reply(ReplyIntent.UNKNOWN)
    eta = minutes[0] if minutes else None
    if bare and (refs or eta is not None or intent not in (ReplyIntent.YES, ReplyIntent.ENROUTE)):
        # With minutes given, or after NO, ARRIVED, DONE, OK, a bare number is a reference.
        refs, bare = refs + bare, []
    return Reply(
        intent,
        ref=refs[0] if refs else None,
        number=bare[0] if bare else None,
        minutes=eta,
        enroute=enroute,
        safe=safe,
    )


def _eta(minutes: int) -> int | None:
    return minutes if 0 < minutes <= MAX_ETA_MINUTES else None


def twilio_keyword(body: str) -> str | None:
    """The OptOutType Twilio attaches to this inbound body (STOP, START or HELP), if any."""
    # Twilio matches a keyword only when it is the whole message, ignoring case and outer spaces.
    word = body.strip().upper()
    if word in OPT_OUT_WORDS:
        return "STOP"
    if word in TWILIO_OPT_IN_WORDS:
        return "START"
    if word in HELP_WORDS:
        return "HELP"
    return None
