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

YES, NO, STOP, START, HELP, UNKNOWN = (
    ReplyIntent.YES,
    ReplyIntent.NO,
    ReplyIntent.STOP,
    ReplyIntent.START,
    ReplyIntent.HELP,
    ReplyIntent.UNKNOWN,
)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("YES", Reply(YES)),
        ("Y", Reply(YES)),
        ("y", Reply(YES)),
        ("yes 47", Reply(YES, 47)),
        ("Yes, 47!", Reply(YES, 47)),
        ("47 yes", Reply(YES, 47)),
        ("  YES\n47  ", Reply(YES, 47)),
        ("yes47", Reply(YES, 47)),
        ("Yes 047", Reply(YES, 47)),
        ("yes.", Reply(YES)),
        ("NO", Reply(NO)),
        ("N", Reply(NO)),
        ("no47", Reply(NO, 47)),
        ("No, 52.", Reply(NO, 52)),
        ("52 n", Reply(NO, 52)),
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
        ("maybe later", Reply(UNKNOWN)),
        ("yes but only after 5", Reply(UNKNOWN)),
        ("yes no", Reply(UNKNOWN)),
        ("yes 47 52", Reply(UNKNOWN)),
        ("47", Reply(UNKNOWN)),
        ("", Reply(UNKNOWN)),
        ("   ", Reply(UNKNOWN)),
        ("👍", Reply(UNKNOWN)),
        ("yeah", Reply(UNKNOWN)),
        ("stop 47", Reply(UNKNOWN)),
        ("help me", Reply(UNKNOWN)),
        ("yes 1234567890", Reply(UNKNOWN)),
        ("yes 000000000047", Reply(YES, 47)),
    ],
)
def test_parse_reply(body, expected):
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
