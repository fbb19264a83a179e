import re
from typing import Any

import pytest

from alerts.segments import count_segments
from alerts.text import (
    KIND_WORDS,
    Checkin,
    StandDownReason,
    ask_reference_text,
    ask_yes_or_no_text,
    availability_check_text,
    available_confirmed_text,
    callup_text,
    checkin_text,
    checkin_which_text,
    confirmation_text,
    coordinator_text,
    declined_text,
    expiry_reminder_text,
    help_text,
    marked_inactive_text,
    milestone_text,
    no_deployment_text,
    no_open_callup_text,
    not_needed_text,
    opted_in_text,
    opted_out_text,
    passport_link_text,
    passport_links_used_up_text,
    rendezvous_moved_text,
    standdown_text,
    unknown_reply_text,
    update_text,
    welfare_check_text,
    welfare_ok_text,
)

LONG_GSM = "Upper Little Snoring-next-the-Sea Community Flood Response Centre, Old Market Square " * 4
LONG_UCS2 = "Llanfairpwllgwyngyll Ysgol Gymraeg Ŵ Ŷ 🌊 Ynys Môn " * 5
ODD = "  Civic\nCentre\t(rear door)  {ramp} [B] ~ | ^ €  "
PLACES = ["Carlisle", "Côte", LONG_GSM, LONG_UCS2, ODD, "Łódź", "八王子"]


def within_two_segments(text: str) -> bool:
    return count_segments(text).segments <= 2


def callup(**overrides: Any) -> str:
    arguments: dict[str, Any] = {
        "kind": "flood",
        "place": "Carlisle",
        "skill": "flood rescue",
        "ref": 47,
        "rendezvous": "Civic Centre",
        "when": "14:00",
        "exercise": False,
    }
    arguments.update(overrides)
    return callup_text(**arguments)


def test_callup_reads_as_the_example():
    assert callup() == (
        "NVR call-up: flooding, Carlisle. Need: flood rescue. Rendezvous Civic Centre 14:00. "
        "Reply YES 47 to go or NO 47."
    )


@pytest.mark.parametrize(("kind", "words"), sorted(KIND_WORDS.items()))
def test_callup_names_the_kind_in_words(kind, words):
    assert callup(kind=kind).startswith(f"NVR call-up: {words}, ")


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown incident kind"):
        callup(kind="volcano")


def test_callup_without_optional_parts():
    assert callup(rendezvous=None, when=None) == (
        "NVR call-up: flooding, Carlisle. Need: flood rescue. Reply YES 47 to go or NO 47."
    )
    assert "At 09:30." in callup(rendezvous=None, when="09:30")


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("rendezvous", [None, "Civic Centre", LONG_GSM, LONG_UCS2, ODD])
@pytest.mark.parametrize("exercise", [False, True])
def test_callup_always_fits_two_segments_and_keeps_the_reply_instruction(place, rendezvous, exercise):
    text = callup(place=place, rendezvous=rendezvous, exercise=exercise, ref=123456)
    assert within_two_segments(text)
    assert text.endswith("Reply YES 123456 to go or NO 123456.")
    assert text.startswith("EXERCISE NVR call-up: ") == exercise


def test_callup_with_huge_skill_and_place_still_fits():
    text = callup(place=LONG_UCS2, skill=LONG_UCS2, rendezvous=LONG_UCS2, when=LONG_UCS2, exercise=True)
    assert within_two_segments(text)
    assert text.endswith("Reply YES 47 to go or NO 47.")


def test_callup_shortens_the_rendezvous_before_dropping_time_or_place():
    rendezvous = "the car park behind the leisure centre on Warwick Road " * 5
    text = callup(rendezvous=rendezvous)
    assert within_two_segments(text)
    assert "Carlisle." in text
    assert re.search(r"Rendezvous the car park behind .*\.\.\. 14:00\.", text)


def test_callup_drops_time_before_cutting_the_place():
    place = "Carlisle " + "x" * 250  # place alone nearly fills two segments
    text = callup(place=place, rendezvous="Civic Centre", when="14:00")
    assert within_two_segments(text)
    assert "Rendezvous" not in text
    assert "14:00" not in text
    assert "Carlisle" in text


def test_callup_newlines_and_runs_of_spaces_are_collapsed():
    text = callup(rendezvous=ODD)
    assert "\n" not in text and "\t" not in text and "  " not in text
    assert "Rendezvous Civic Centre (rear door) {ramp} [B] ~ | ^ € 14:00." in text


def test_confirmation_says_where_and_when():
    assert confirmation_text(ref=47, rendezvous="Civic Centre", when="14:00", exercise=False) == (
        "NVR 47: you are confirmed, thank you. Go to Civic Centre at 14:00."
    )
    assert "where to go" in confirmation_text(ref=47, rendezvous=None, when=None, exercise=False)


@pytest.mark.parametrize("rendezvous", [None, "Civic Centre", LONG_GSM, LONG_UCS2, ODD])
@pytest.mark.parametrize("when", [None, "14:00", LONG_UCS2])
def test_confirmation_fits_two_segments(rendezvous, when):
    text = confirmation_text(ref=47, rendezvous=rendezvous, when=when, exercise=True)
    assert within_two_segments(text)
    assert text.startswith("EXERCISE NVR 47: you are confirmed")


def test_each_standdown_says_why():
    assert standdown_text(ref=47, reason=StandDownReason.need_filled, exercise=False) == (
        "NVR 47: stand down. We have enough people for this call-up, so you are not needed. "
        "Thank you for being ready."
    )
    assert standdown_text(ref=47, reason=StandDownReason.fewer_needed, exercise=False) == (
        "NVR 47: stand down. Fewer people are needed now, so you are no longer needed. "
        "Please do not go. Thank you."
    )
    assert standdown_text(ref=47, reason=StandDownReason.incident_closed, exercise=False) == (
        "NVR 47: stand down. The incident is closed and you are no longer needed. Thank you."
    )
    assert standdown_text(ref=47, reason=StandDownReason.paused, exercise=False) == (
        "NVR 47: stand down. Your call-ups are paused, so you are no longer needed for this one. Thank you."
    )
    only_closing_says_closed = [
        r for r in StandDownReason if "closed" in standdown_text(ref=47, reason=r, exercise=False)
    ]
    assert only_closing_says_closed == [StandDownReason.incident_closed]


@pytest.mark.parametrize("reason", list(StandDownReason))
def test_every_standdown_is_one_gsm7_segment_even_for_an_exercise_with_a_long_ref(reason):
    result = count_segments(standdown_text(ref=99999999, reason=reason, exercise=True))
    assert (result.segments, result.encoding) == (1, "GSM-7")


def test_ask_reference_lists_the_open_call_ups():
    text = ask_reference_text(refs=[47, 52], exercise=False)
    assert "YES 47 or YES 52" in text
    assert "2 open call-ups" in text


def test_ask_reference_with_many_refs_still_fits():
    refs = list(range(100000, 100100))
    text = ask_reference_text(refs=refs, exercise=True)
    assert within_two_segments(text)
    assert "YES 100000" in text
    assert "100 open call-ups" in text


def test_ask_reference_needs_a_ref():
    with pytest.raises(ValueError):
        ask_reference_text(refs=[], exercise=False)


FIXED_TEXTS = [
    not_needed_text(ref=47, exercise=False),
    not_needed_text(ref=99999999, exercise=True),
    *(standdown_text(ref=99999999, reason=r, exercise=True) for r in StandDownReason),
    declined_text(ref=99999999, exercise=True),
    ask_reference_text(refs=[99999998, 99999999, 99999997], exercise=True),
    help_text(),
    passport_link_text(url="https://nvr.example.org.uk/passport/" + "A" * 43, minutes=15),
    passport_links_used_up_text(),
    unknown_reply_text(),
    opted_out_text(),
    opted_in_text(),
    no_open_callup_text(),
    ask_yes_or_no_text(refs=[99999999], exercise=True),
    ask_yes_or_no_text(refs=[99999998, 99999999], exercise=True),
    *(checkin_text(ref=99999999, checkin=c, minutes=600, exercise=True) for c in Checkin),
    *(checkin_text(ref=99999999, checkin=c, minutes=None, exercise=True) for c in Checkin),
    checkin_which_text(word="ARRIVED", refs=[99999998, 99999999], exercise=True),
    no_deployment_text(),
    welfare_check_text(ref=99999999, after_done=True, exercise=True),
    welfare_check_text(ref=99999999, after_done=False, exercise=True),
    welfare_ok_text(ref=99999999, exercise=True),
]


@pytest.mark.parametrize("text", FIXED_TEXTS)
def test_every_text_fits_two_segments_in_gsm7(text):
    result = count_segments(text)
    assert result.segments <= 2
    assert result.encoding == "GSM-7"  # our own wording never forces the dearer encoding


@pytest.mark.parametrize(
    "make",
    [
        lambda exercise: callup(exercise=exercise),
        lambda exercise: confirmation_text(ref=1, rendezvous="X", when="Y", exercise=exercise),
        lambda exercise: not_needed_text(ref=1, exercise=exercise),
        *(lambda exercise, r=r: standdown_text(ref=1, reason=r, exercise=exercise) for r in StandDownReason),
        lambda exercise: ask_reference_text(refs=[1, 2], exercise=exercise),
        lambda exercise: declined_text(ref=1, exercise=exercise),
        lambda exercise: ask_yes_or_no_text(refs=[1], exercise=exercise),
        *(
            lambda exercise, c=c: checkin_text(ref=1, checkin=c, minutes=5, exercise=exercise)
            for c in Checkin
        ),
        lambda exercise: welfare_check_text(ref=1, after_done=True, exercise=exercise),
        lambda exercise: welfare_ok_text(ref=1, exercise=exercise),
        lambda exercise: coordinator_text(ref=1, text="Go to the school instead.", exercise=exercise),
    ],
)
def test_exercise_prefix_is_at_the_very_start_of_every_call_up_message(make):
    assert make(True) == "EXERCISE " + make(False)
    assert "EXERCISE" not in make(False)


def test_help_says_who_we_are_and_how_to_stop():
    text = help_text()
    assert "National Volunteer Reserve" in text
    assert "YES" in text and "NO" in text and "STOP" in text
    assert "PASSPORT" in text


def test_ask_reference_with_one_ref_reads_naturally():
    assert ask_reference_text(refs=[47, 47], exercise=False) == (
        "NVR: you have an open call-up. Reply YES 47 to go, or NO and the number to say no."
    )


def test_a_closing_reason_is_in_the_stand_down_and_cut_to_fit():
    assert (
        standdown_text(
            ref=47, reason=StandDownReason.incident_closed, exercise=False, detail="  the river\nhas fallen "
        )
        == "NVR 47: stand down. The incident is closed: the river has fallen. Thank you."
    )
    long = standdown_text(ref=47, reason=StandDownReason.incident_closed, exercise=True, detail=LONG_UCS2)
    assert within_two_segments(long) and long.endswith("... Thank you.") and long.startswith("EXERCISE ")
    blank = standdown_text(ref=47, reason=StandDownReason.incident_closed, exercise=False, detail=" ")
    assert blank == standdown_text(ref=47, reason=StandDownReason.incident_closed, exercise=False)


def test_an_update_is_refused_past_two_segments_and_a_moved_rendezvous_fits():
    assert (
        update_text(ref=3, body="Go to the\neast gate.", exercise=False)
        == "NVR 3 update: Go to the east gate."
    )
    with pytest.raises(ValueError, match="segments"):
        update_text(ref=3, body="x" * 300, exercise=False)
    moved = rendezvous_moved_text(ref=3, rendezvous=LONG_GSM, when="Sat 14 Dec 10:00", exercise=True)
    assert within_two_segments(moved) and moved.endswith("at Sat 14 Dec 10:00.")


def test_the_welfare_check_asks_for_an_ok():
    assert welfare_check_text(ref=7, after_done=False, exercise=False) == (
        "NVR 7: thank you for your help. Are you safe and home? Reply OK"
    )


def test_a_coordinators_text_is_marked_as_ours_on_one_line():
    assert coordinator_text(ref=None, text="Ringing\n you  now.", exercise=False) == "NVR: Ringing you now."


def test_times_in_texts_carry_their_date_on_the_uk_clock():
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from alerts.text import local_time_text

    uk = ZoneInfo("Europe/London")
    assert local_time_text(datetime(2026, 12, 14, 10, 0, tzinfo=UTC), uk) == "Mon 14 Dec 10:00"
    assert local_time_text(datetime(2026, 7, 4, 9, 5, tzinfo=UTC), uk) == "Sat 4 Jul 10:05"  # BST


# Keeping the reserve alive.


def test_keeping_alive_texts_are_one_gsm7_segment():
    for body in (
        expiry_reminder_text(skills=["First aid on 14 Dec 2026", "4x4 driver on 2 Jan 2027"]),
        availability_check_text(answer_within_days=14),
        available_confirmed_text(),
        marked_inactive_text(),
    ):
        assert count_segments(body).segments == 1, body
        assert count_segments(body).encoding == "GSM-7"


def test_an_expiry_reminder_names_what_it_leaves_out():
    skills = [f"Swift water rescue on {day} Dec 2026" for day in range(1, 8)]
    body = expiry_reminder_text(skills=skills)
    assert count_segments(body).segments == 1
    assert body.startswith("NVR: due to expire: Swift water rescue on 1 Dec 2026")
    shown = body.count("Swift water rescue")
    assert f"and {len(skills) - shown} more." in body
    assert "renew" in body


def test_an_expiry_reminder_with_an_unwieldy_name_still_fits():
    body = expiry_reminder_text(skills=["Ŵ" * 300 + " on 1 Dec 2026", "Radio on 2 Dec 2026"])
    assert within_two_segments(body)
    with pytest.raises(ValueError, match="at least one skill"):
        expiry_reminder_text(skills=[])


def test_the_availability_check_says_how_to_answer_and_what_silence_does():
    body = availability_check_text(answer_within_days=14)
    assert all(word in body for word in ("YES", "PAUSE", "LEAVE", "14 days"))
    assert "BACK" in marked_inactive_text()


def test_a_milestone_thank_you_is_one_plain_segment():
    for hours in (10, 25, 50, 100, 200, 500):
        body = milestone_text(hours=hours)
        assert f"{hours} hours" in body and body.startswith("NVR: thank you")
        assert count_segments(body).segments == 1 and count_segments(body).encoding == "GSM-7"


# An organisation's ask: the same texts, each marked as not an emergency (after EXERCISE in a drill).
ASK_TEXTS = [
    lambda emergency, exercise: confirmation_text(
        ref=1, rendezvous="X", when="Y", exercise=exercise, emergency=emergency
    ),
    lambda emergency, exercise: not_needed_text(ref=1, exercise=exercise, emergency=emergency),
    *(
        lambda emergency, exercise, r=r: standdown_text(
            ref=1, reason=r, exercise=exercise, emergency=emergency
        )
        for r in StandDownReason
        if r is not StandDownReason.incident_closed
    ),
    lambda emergency, exercise: update_text(
        ref=1, body="Bring gloves.", exercise=exercise, emergency=emergency
    ),
    lambda emergency, exercise: rendezvous_moved_text(
        ref=1, rendezvous="Town Hall", when=None, exercise=exercise, emergency=emergency
    ),
    lambda emergency, exercise: ask_reference_text(refs=[1, 2], exercise=exercise, emergency=emergency),
    lambda emergency, exercise: declined_text(ref=1, exercise=exercise, emergency=emergency),
    lambda emergency, exercise: ask_yes_or_no_text(refs=[1], exercise=exercise, emergency=emergency),
    *(
        lambda emergency, exercise, c=c: checkin_text(
            ref=1, checkin=c, minutes=5, exercise=exercise, emergency=emergency
        )
        for c in Checkin
    ),
    lambda emergency, exercise: checkin_which_text(
        word="DONE", refs=[1, 2], exercise=exercise, emergency=emergency
    ),
    lambda emergency, exercise: welfare_check_text(
        ref=1, after_done=True, exercise=exercise, emergency=emergency
    ),
    lambda emergency, exercise: welfare_ok_text(ref=1, exercise=exercise, emergency=emergency),
    lambda emergency, exercise: coordinator_text(
        ref=1, text="Go to the school instead.", exercise=exercise, emergency=emergency
    ),
]


@pytest.mark.parametrize("make", ASK_TEXTS)
def test_every_text_of_an_ask_starts_by_saying_it_is_not_an_emergency(make):
    assert make(False, False) == "Not an emergency: " + make(True, False)
    assert make(False, True) == "EXERCISE Not an emergency: " + make(True, False)
    assert "emergency" not in make(True, False).lower()


def test_a_call_up_for_an_ask_is_a_volunteering_ask_marked_as_not_an_emergency():
    assert callup(kind="environment", emergency=False, when="Sat 14 Dec 10:00") == (
        "Not an emergency: NVR volunteering ask: environment work, Carlisle. Need: flood rescue. "
        "Rendezvous Civic Centre Sat 14 Dec 10:00. Reply YES 47 to go or NO 47."
    )
    assert callup(kind="community", emergency=False, exercise=True).startswith(
        "EXERCISE Not an emergency: NVR volunteering ask: community support, "
    )


def test_a_closed_ask_says_the_ask_is_closed():
    closed = StandDownReason.incident_closed
    assert standdown_text(ref=5, reason=closed, exercise=False, emergency=False) == (
        "Not an emergency: NVR 5: stand down. The ask is closed and you are no longer needed. Thank you."
    )
    assert standdown_text(ref=5, reason=closed, exercise=False, detail="all planted", emergency=False) == (
        "Not an emergency: NVR 5: stand down. The ask is closed: all planted. Thank you."
    )


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("exercise", [False, True])
def test_an_asks_texts_fit_two_segments_whatever_the_place_and_the_reason(place, exercise):
    texts = [
        callup(
            place=place,
            rendezvous=place,
            when="Sat 14 Dec 10:00",
            ref=99999999,
            exercise=exercise,
            emergency=False,
        ),
        confirmation_text(
            ref=99999999, rendezvous=place, when="Sat 14 Dec 10:00", exercise=exercise, emergency=False
        ),
        rendezvous_moved_text(
            ref=99999999, rendezvous=place, when="Sat 14 Dec 10:00", exercise=exercise, emergency=False
        ),
        standdown_text(
            ref=99999999,
            reason=StandDownReason.incident_closed,
            detail=place,
            exercise=exercise,
            emergency=False,
        ),
        *(
            standdown_text(ref=99999999, reason=r, exercise=exercise, emergency=False)
            for r in StandDownReason
        ),
        ask_reference_text(refs=[99999998, 99999999, 99999997], exercise=exercise, emergency=False),
        *(
            checkin_text(ref=99999999, checkin=c, minutes=600, exercise=exercise, emergency=False)
            for c in Checkin
        ),
        checkin_which_text(word="ARRIVED", refs=[99999998, 99999999], exercise=exercise, emergency=False),
        welfare_check_text(ref=99999999, after_done=False, exercise=exercise, emergency=False),
    ]
    for text in texts:
        assert within_two_segments(text), text
        assert text.startswith("EXERCISE Not an emergency: " if exercise else "Not an emergency: ")


def test_the_emergencies_only_answers_say_how_to_undo_them():
    from alerts.text import all_asks_text, emergencies_only_text

    assert emergencies_only_text() == (
        "NVR: You will only be asked to help in emergencies. Text ALL ASKS to hear about other "
        "volunteering too."
    )
    assert "EMERGENCIES ONLY" in all_asks_text() and "Not an emergency" in all_asks_text()
    assert count_segments(all_asks_text()).segments == 1
    assert "EMERGENCIES ONLY" in help_text()
