import pytest

from alerts.replies import (
    OPT_IN_WORDS,
    OPT_OUT_WORDS,
    TWILIO_OPT_IN_WORDS,
    Reply,
    ReplyIntent,
    parse_reply,
    twilio_keyword,
)

R = ReplyIntent
YES, NO, STOP, START, HELP, UNKNOWN, AMBIGUOUS = R.YES, R.NO, R.STOP, R.START, R.HELP, R.UNKNOWN, R.AMBIGUOUS


def ask(**fields: object) -> Reply:
    return Reply(**fields)  # type: ignore[arg-type]


# (what a volunteer texted, how it is read). A number after YES is `number` (a reference or an ETA,
# decided with the volunteer's call-ups); after NO, ARRIVED, DONE or with minutes given, a `ref`.
REPLY_FORMS = [
    # yes, in its forms
    ("YES", Reply(YES)),
    ("Y", Reply(YES)),
    ("y", Reply(YES)),
    ("yes.", Reply(YES)),
    ("Yes!", Reply(YES)),
    ("yes please", Reply(YES)),
    ("Yes please!", Reply(YES)),
    ("Yes I can come", Reply(YES)),
    ("yes i can", Reply(YES)),
    ("yeah", Reply(YES)),
    ("Yeah sure", Reply(YES)),
    ("yep", Reply(YES)),
    ("Yup", Reply(YES)),
    ("yesss", Reply(YES)),
    ("YEEES", Reply(YES)),
    ("aye", Reply(YES)),
    ("sure", Reply(YES)),
    ("Of course", Reply(YES)),
    ("absolutely", Reply(YES)),
    ("Count me in", Reply(YES)),
    ("I'm in", Reply(YES)),
    ("I\u2019m coming", Reply(YES)),
    ("coming", Reply(YES)),
    ("I can make it", Reply(YES)),
    ("I'll be there", Reply(YES)),
    ("available", Reply(YES)),
    ("Yes, happy to help", Reply(YES)),
    ("Hi, yes I can come. Thanks", Reply(YES)),
    ("yes thanks x", Reply(YES)),
    ("Yes no problem", Reply(YES)),
    ("no problem, yes", Reply(YES)),
    ("yes ok", Reply(YES)),
    ("👍", Reply(YES)),
    ("👍🏽", Reply(YES)),
    ("✅", Reply(YES)),
    ("✔️", Reply(YES)),
    ("yes 👍", Reply(YES)),
    ("Yes 🙂", Reply(YES)),
    ("YES, see you there", Reply(YES)),
    # yes and on my way
    ("Yes, on my way", ask(intent=YES, enroute=True)),
    ("yes omw", ask(intent=YES, enroute=True)),
    ("Yes on my way 20 mins", ask(intent=YES, enroute=True, minutes=20)),
    # yes with a reference or an ETA
    ("yes 47", ask(intent=YES, number=47)),
    ("YES 20", ask(intent=YES, number=20)),
    ("Yes, 47!", ask(intent=YES, number=47)),
    ("47 yes", ask(intent=YES, number=47)),
    ("  YES\n47  ", ask(intent=YES, number=47)),
    ("yes47", ask(intent=YES, number=47)),
    ("Yes 047", ask(intent=YES, number=47)),
    ("Y 12", ask(intent=YES, number=12)),
    ("yes 000000000047", ask(intent=YES, number=47)),
    ("YES 14 ETA 20", ask(intent=YES, ref=14, minutes=20)),
    ("yes 14 eta 20 mins", ask(intent=YES, ref=14, minutes=20)),
    ("yes 14, 20 mins", ask(intent=YES, ref=14, minutes=20)),
    ("Yes 14 - be there in 30 minutes", ask(intent=YES, ref=14, minutes=30)),
    ("yes eta 20", ask(intent=YES, minutes=20)),
    ("Yes 20mins", ask(intent=YES, minutes=20)),
    ("yes in 1 hour", ask(intent=YES, minutes=60)),
    ("yes 1hr", ask(intent=YES, minutes=60)),
    ("Yes, half an hour", ask(intent=YES, minutes=30)),
    ("yes #14", ask(intent=YES, ref=14)),
    ("ref 14 yes", ask(intent=YES, ref=14)),
    ("NVR 14 yes", ask(intent=YES, ref=14)),
    # only minutes: an ETA, never a YES by itself
    ("20 mins", ask(intent=R.ETA, minutes=20)),
    ("ETA 20", ask(intent=R.ETA, minutes=20)),
    ("about 45 minutes", ask(intent=R.ETA, minutes=45)),
    ("half an hour", ask(intent=R.ETA, minutes=30)),
    ("2 hours", ask(intent=R.ETA, minutes=120)),
    # no, in its forms
    ("NO", Reply(NO)),
    ("N", Reply(NO)),
    ("no.", Reply(NO)),
    ("No sorry", Reply(NO)),
    ("sorry no", Reply(NO)),
    ("sorry can't", Reply(NO)),
    ("Sorry, I can\u2019t", Reply(NO)),
    ("cant make it sorry", Reply(NO)),
    ("nope", Reply(NO)),
    ("nah", Reply(NO)),
    ("Noooo", Reply(NO)),
    ("no thanks", Reply(NO)),
    ("not available", Reply(NO)),
    ("Unavailable sorry", Reply(NO)),
    ("I'm at work", Reply(NO)),
    ("not this time", Reply(NO)),
    ("Sorry I'm busy", Reply(NO)),
    ("👎", Reply(NO)),
    ("❌", Reply(NO)),
    ("no47", Reply(NO, 47)),
    ("No, 52.", Reply(NO, 52)),
    ("52 n", Reply(NO, 52)),
    ("no 14 sorry", Reply(NO, 14)),
    # during a deployment
    ("on my way", Reply(R.ENROUTE)),
    ("On my way!", Reply(R.ENROUTE)),
    ("ENROUTE", Reply(R.ENROUTE)),
    ("en route", Reply(R.ENROUTE)),
    ("omw", Reply(R.ENROUTE)),
    ("Leaving now", Reply(R.ENROUTE)),
    ("ok on my way", Reply(R.ENROUTE)),
    ("on my way, eta 25", ask(intent=R.ENROUTE, minutes=25)),
    ("omw 14", ask(intent=R.ENROUTE, number=14)),
    ("ARRIVED", Reply(R.ARRIVED)),
    ("arrived 14", Reply(R.ARRIVED, 14)),
    ("I'm here", Reply(R.ARRIVED)),
    ("on site", Reply(R.ARRIVED)),
    ("at the rendezvous", Reply(R.ARRIVED)),
    ("LATE 15", ask(intent=R.LATE, minutes=15)),
    ("late", Reply(R.LATE)),
    ("running late", Reply(R.LATE)),
    ("Running 15 mins late sorry", ask(intent=R.LATE, minutes=15)),
    ("stuck in traffic, 10 mins late", ask(intent=R.LATE, minutes=10)),
    ("on my way but running late", Reply(AMBIGUOUS)),
    ("on my way, running late", Reply(R.LATE)),
    ("DONE", Reply(R.DONE)),
    ("done 14", Reply(R.DONE, 14)),
    ("Finished", Reply(R.DONE)),
    ("all done", Reply(R.DONE)),
    ("heading home", Reply(R.DONE)),
    ("on my way home", Reply(R.DONE)),
    ("done, home safe", ask(intent=R.DONE, safe=True)),
    # the welfare check
    ("OK", Reply(R.OK)),
    ("ok thanks", Reply(R.OK)),
    ("Okay", Reply(R.OK)),
    ("I'm ok", Reply(R.OK)),
    ("all good", Reply(R.OK)),
    ("safe and home", Reply(R.OK)),
    ("Home safe, thanks", Reply(R.OK)),
    ("yes home safe", Reply(R.OK)),
    ("👌", Reply(R.OK)),
    # keywords (Twilio handles these too)
    ("STOP", Reply(STOP)),
    ("stop", Reply(STOP)),
    ("Stop.", Reply(STOP)),
    ("STOPALL", Reply(STOP)),
    ("unsubscribe", Reply(STOP)),
    ("Cancel", Reply(STOP)),
    ("END", Reply(STOP)),
    ("quit", Reply(STOP)),
    ("START", Reply(START)),
    ("unstop", Reply(START)),
    ("HELP", Reply(HELP)),
    ("info?", Reply(HELP)),
    # never a guessed YES: mixed, hedged, laughing, or a yes among words we cannot read
    ("yes no", Reply(AMBIGUOUS)),
    ("no yes", Reply(AMBIGUOUS)),
    ("yes but not today", Reply(AMBIGUOUS)),
    ("yes but only after 5", Reply(AMBIGUOUS)),
    ("Yes if I can find a sitter", Reply(AMBIGUOUS)),
    ("maybe", Reply(AMBIGUOUS)),
    ("maybe later", Reply(AMBIGUOUS)),
    ("yeah right", Reply(AMBIGUOUS)),
    ("yeah no", Reply(AMBIGUOUS)),
    ("as if", Reply(AMBIGUOUS)),
    ("yes lol", Reply(AMBIGUOUS)),
    ("yes 😂", Reply(AMBIGUOUS)),
    ("Yes 🙄", Reply(AMBIGUOUS)),
    ("yes I can't", Reply(AMBIGUOUS)),
    ("not sure", Reply(AMBIGUOUS)),
    ("probably", Reply(AMBIGUOUS)),
    ("yes at 5pm", Reply(AMBIGUOUS)),
    ("yes, my car has broken down", Reply(AMBIGUOUS)),
    ("I can come tomorrow", Reply(AMBIGUOUS)),
    ("yes 🔥", Reply(AMBIGUOUS)),
    ("no, running late", Reply(AMBIGUOUS)),
    ("yes, arrived", Reply(AMBIGUOUS)),
    ("arrived and done", Reply(AMBIGUOUS)),
    # unreadable
    ("47", Reply(UNKNOWN)),
    ("", Reply(UNKNOWN)),
    ("   ", Reply(UNKNOWN)),
    ("thanks", Reply(UNKNOWN)),
    ("no problem", Reply(UNKNOWN)),
    ("I can come after 5 if that helps", Reply(AMBIGUOUS)),
    ("Who is this?", Reply(AMBIGUOUS)),
    ("🎉", Reply(UNKNOWN)),
    ("stop 47", Reply(UNKNOWN)),
    ("help me", Reply(UNKNOWN)),
    ("yes 47 52", Reply(UNKNOWN)),
    ("yes 1234567890", Reply(UNKNOWN)),
    ("late 700", Reply(UNKNOWN)),
    ("arrived 20 mins", Reply(UNKNOWN)),
    ("call me", Reply(UNKNOWN)),
]


def test_at_least_a_hundred_reply_forms_are_tabled() -> None:
    assert len(REPLY_FORMS) >= 100
    assert len({body for body, _ in REPLY_FORMS}) == len(REPLY_FORMS)


@pytest.mark.parametrize(("body", "expected"), REPLY_FORMS)
def test_parse_reply(body: str, expected: Reply) -> None:
    assert parse_reply(body) == expected


def test_bare_yes_is_an_answer_not_an_opt_in():
    assert parse_reply("yes").intent is ReplyIntent.YES
    assert "YES" not in OPT_IN_WORDS
    assert "YES" in TWILIO_OPT_IN_WORDS


def test_twilio_default_opt_out_words_are_all_there():
    assert {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"} <= OPT_OUT_WORDS
    assert {"START", "UNSTOP"} == OPT_IN_WORDS


@pytest.mark.parametrize(
    ("body", "keyword"),
    [
        ("STOP", "STOP"),
        (" quit ", "STOP"),
        ("Yes", "START"),
        ("start", "START"),
        ("UNSTOP", "START"),
        ("info", "HELP"),
        ("YES 47", None),
        ("stop please", None),
        ("no", None),
    ],
)
def test_twilio_keyword_matches_only_a_whole_message(body, keyword):
    assert twilio_keyword(body) == keyword


@pytest.mark.parametrize(
    ("body", "days", "until"),
    [
        ("PAUSE", None, None),
        ("pause", None, None),
        ("PAUSE 7D", 7, None),
        ("pause 2w", 14, None),
        ("Pause 3 days", 3, None),
        ("pause for a week", 7, None),
        ("PAUSE UNTIL 24 DEC", None, (24, 12)),
        ("pause until 24 December", None, (24, 12)),
        ("pause until 24/12", None, (24, 12)),
    ],
)
def test_pause_and_how_long(body: str, days: int | None, until: tuple[int, int] | None) -> None:
    assert parse_reply(body) == Reply(ReplyIntent.PAUSE, days=days, until=until)


@pytest.mark.parametrize(
    "body", ["pause 0d", "pause 400 days", "pause until 31 feb", "pause until 3 smarch", "pause maybe"]
)
def test_a_pause_we_cannot_place_is_unknown_never_a_pause(body: str) -> None:
    assert parse_reply(body).intent is ReplyIntent.UNKNOWN


@pytest.mark.parametrize(
    ("body", "intent"),
    [
        ("BACK", ReplyIntent.BACK),
        ("I'm back", ReplyIntent.OK),  # the answer to a welfare check, not the end of a pause
        ("resume", ReplyIntent.BACK),
        ("STATUS", ReplyIntent.STATUS),
        ("PASSPORT", ReplyIntent.PASSPORT),
        ("passport.", ReplyIntent.PASSPORT),
        ("status?", ReplyIntent.STATUS),
        ("LEAVE", ReplyIntent.LEAVE),
        ("JOIN", ReplyIntent.JOIN),
        ("EMERGENCIES ONLY", ReplyIntent.EMERGENCIES_ONLY),
        ("Emergency only", ReplyIntent.EMERGENCIES_ONLY),
        ("emergencies-only.", ReplyIntent.EMERGENCIES_ONLY),
        ("ALL ASKS", ReplyIntent.ALL_ASKS),
        ("all asks!", ReplyIntent.ALL_ASKS),
    ],
)
def test_the_volunteers_own_commands(body: str, intent: ReplyIntent) -> None:
    assert parse_reply(body).intent is intent


def test_leave_with_a_code_keeps_its_leading_zeros() -> None:
    assert parse_reply("Leave 012345") == Reply(ReplyIntent.LEAVE, code="012345")
    assert parse_reply("LEAVE 1234").intent is not ReplyIntent.LEAVE  # not a code: never guessed


@pytest.mark.parametrize(
    "body",
    [
        "back later, no",
        "status of call-up 14 please",
        "leave me out of it",
        "my passport expired",
        "yes, emergencies only",
        "emergency",
        "all asks 14",
    ],
)
def test_a_command_is_only_the_whole_message(body: str) -> None:
    commands = {
        ReplyIntent.BACK,
        ReplyIntent.STATUS,
        ReplyIntent.LEAVE,
        ReplyIntent.PASSPORT,
        ReplyIntent.EMERGENCIES_ONLY,
        ReplyIntent.ALL_ASKS,
    }
    assert parse_reply(body).intent not in commands
