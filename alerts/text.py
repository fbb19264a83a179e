"""The texts we send to volunteers: plain, short, and never more than two segments."""

import enum
from collections.abc import Callable
from datetime import datetime, tzinfo

from alerts.segments import fits

MAX_SEGMENTS = 2
EXERCISE_PREFIX = "EXERCISE "
# Every text of an organisation's ask starts so (after EXERCISE in a drill): nobody takes it for an emergency.
ASK_PREFIX = "Not an emergency: "

KIND_WORDS = {
    "flood": "flooding",
    "storm": "storm",
    "wildfire": "wildfire",
    "heatwave": "heatwave",
    "search": "search",
    "pollution": "pollution",
    "other": "emergency",
    "environment": "environment work",
    "community": "community support",
}

# A truncated name keeps at least this many characters: shorter would no longer identify a place.
_MIN_KEPT = 12
_ELLIPSIS = "..."  # GSM-7, unlike the single-character ellipsis that would force UCS-2


def local_time_text(moment: datetime, zone: tzinfo) -> str:
    """A moment on the local clock with its date, "Sat 14 Dec 10:00": a bare weekday misleads."""
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %H:%M}"


def callup_text(
    *,
    kind: str,
    place: str,
    skill: str,
    ref: int,
    rendezvous: str | None,
    when: str | None,
    exercise: bool,
    emergency: bool = True,
) -> str:
    """Ask a volunteer to go; optional details give way so the reply instruction always survives.

    An organisation's ask (not `emergency`) is a "volunteering ask", marked as not an emergency."""
    if kind not in KIND_WORDS:
        raise ValueError(f"unknown incident kind {kind!r}; expected one of {sorted(KIND_WORDS)}")
    words = KIND_WORDS[kind]
    place, skill = _clean(place), _clean(skill)
    rendezvous = _clean(rendezvous) if rendezvous else None
    when = _clean(when) if when else None

    def render(place: str, skill: str, rendezvous: str | None, when: str | None) -> str:
        meeting = ""
        if rendezvous and when:
            meeting = " " + _sentence(f"Rendezvous {rendezvous} {when}")
        elif rendezvous:
            meeting = " " + _sentence(f"Rendezvous {rendezvous}")
        elif when:
            meeting = " " + _sentence(f"At {when}")
        what = _sentence(f"{'NVR call-up' if emergency else 'NVR volunteering ask'}: {words}, {place}")
        need = _sentence(f"Need: {skill}")
        body = f"{what} {need}{meeting} Reply YES {ref} to go or NO {ref}."
        return _prefixed(body, exercise, emergency)

    # Give way in this order: rendezvous text, then the time, then the place, then the skill.
    candidates: list[Callable[[], str | None]] = [
        lambda: _fitting(render(place, skill, rendezvous, when)),
        lambda: _shortened(lambda r: render(place, skill, r, when), rendezvous),
        lambda: _fitting(render(place, skill, None, when)),
        lambda: _fitting(render(place, skill, None, None)),
        lambda: _shortened(lambda p: render(p, skill, None, None), place),
        lambda: _shortened(lambda s: render(_cut(place, _MIN_KEPT), s, None, None), skill),
    ]
    for candidate in candidates:
        text = candidate()
        if text is not None:
            return text
    raise ValueError(f"call-up reference {ref} is too long to fit a call-up in {MAX_SEGMENTS} segments")


def confirmation_text(
    *, ref: int, rendezvous: str | None, when: str | None, exercise: bool, emergency: bool = True
) -> str:
    """Answer a YES that got a place, so the volunteer knows they are deployed and where to go."""
    rendezvous = _clean(rendezvous) if rendezvous else None
    when = _clean(when) if when else None

    def render(rendezvous: str | None, when: str | None) -> str:
        if rendezvous and when:
            where = _sentence(f"Go to {rendezvous} at {when}")
        elif rendezvous:
            where = _sentence(f"Go to {rendezvous}")
        elif when:
            where = f"Be ready at {when}; we will text you where to go."
        else:
            where = "We will text you where to go."
        return _prefixed(f"NVR {ref}: you are confirmed, thank you. {where}", exercise, emergency)

    # Where and when both matter here, so both are shortened rather than dropped.
    short_rendezvous = _cut(rendezvous, _MIN_KEPT) if rendezvous else None
    text = (
        _fitting(render(rendezvous, when))
        or _shortened(lambda r: render(r, when), rendezvous)
        or _shortened(lambda w: render(short_rendezvous, w), when)
    )
    if text is None:
        raise ValueError(f"call-up reference {ref} is too long to fit in {MAX_SEGMENTS} segments")
    return text


def not_needed_text(*, ref: int, exercise: bool, emergency: bool = True) -> str:
    """Answer a YES that came after the call-up was filled, so nobody sets off for nothing."""
    return _checked(
        f"NVR {ref}: thank you, we have enough people now. Please do not go.", exercise, emergency
    )


class StandDownReason(enum.StrEnum):
    """Why someone is stood down; the text says it, so nobody reads "closed" while it is open."""

    need_filled = "need filled"
    fewer_needed = "fewer needed"
    incident_closed = "incident closed"
    paused = "paused"
    released = "released"


# A need whose people were stood down for these reasons may ask them again when it grows (they were ready).
REASKABLE = (StandDownReason.need_filled, StandDownReason.fewer_needed)


_STANDDOWN_WHY = {
    StandDownReason.need_filled: "We have enough people for this call-up, so you are not needed. "
    "Thank you for being ready.",
    StandDownReason.fewer_needed: "Fewer people are needed now, so you are no longer needed. "
    "Please do not go. Thank you.",
    StandDownReason.incident_closed: "The incident is closed and you are no longer needed. Thank you.",
    StandDownReason.paused: "Your call-ups are paused, so you are no longer needed for this one. Thank you.",
    StandDownReason.released: "The coordinator has released you from this call-up. Please do not go. "
    "Thank you.",
}


_ASK_CLOSED_WHY = "The ask is closed and you are no longer needed. Thank you."


def standdown_text(
    *,
    ref: int,
    reason: StandDownReason,
    exercise: bool,
    detail: str | None = None,
    emergency: bool = True,
) -> str:
    """Tell people they are not needed, and why: silence is not a stand-down.

    A closed incident's text carries the coordinator's reason (`detail`), cut to fit when it is long;
    a closed ask (not `emergency`) is called an ask.
    """
    closed = "The incident is closed" if emergency else "The ask is closed"
    if reason is StandDownReason.incident_closed and detail and _clean(detail):
        text = _shortened(
            lambda d: _prefixed(
                f"NVR {ref}: stand down. {_sentence(f'{closed}: {d}')} Thank you.", exercise, emergency
            ),
            _clean(detail),
        )
        if text is not None:
            return text
    why = _ASK_CLOSED_WHY if not emergency and reason is StandDownReason.incident_closed else None
    return _checked(f"NVR {ref}: stand down. {why or _STANDDOWN_WHY[reason]}", exercise, emergency)


def update_text(*, ref: int, body: str, exercise: bool, emergency: bool = True) -> str:
    """A coordinator's update to everyone confirmed ("go to X instead"); refused when over two segments."""
    return _checked(f"NVR {ref} update: {_clean(body)}", exercise, emergency)


def rendezvous_moved_text(
    *, ref: int, rendezvous: str, when: str | None, exercise: bool, emergency: bool = True
) -> str:
    """Tell everyone confirmed that the rendezvous has moved, and where to go now."""
    when = _clean(when) if when else None

    def render(place: str) -> str:
        where = f"Go to {place} at {when}" if when else f"Go to {place}"
        return _prefixed(f"NVR {ref}: the rendezvous has moved. {_sentence(where)}", exercise, emergency)

    text = _shortened(render, _clean(rendezvous))
    if text is None:
        raise ValueError(f"call-up reference {ref} is too long to fit in {MAX_SEGMENTS} segments")
    return text


def ask_reference_text(*, refs: list[int], exercise: bool, emergency: bool = True) -> str:
    """Ask which call-up a bare YES or NO meant, rather than guess."""
    unique = list(dict.fromkeys(refs))
    if not unique:
        raise ValueError("ask_reference_text needs at least one open call-up reference")
    # With an absurd number of open call-ups, name as many as fit: the volunteer can still answer.
    for shown in range(len(unique), 0, -1):
        options = " or ".join(f"YES {ref}" for ref in unique[:shown])
        count = f"{len(unique)} open call-ups" if len(unique) > 1 else "an open call-up"
        text = _prefixed(
            f"NVR: you have {count}. Reply {options} to go, or NO and the number to say no.",
            exercise,
            emergency,
        )
        if fits(text, MAX_SEGMENTS):
            return text
    raise ValueError("call-up references are too long to fit in two segments")


def declined_text(*, ref: int, exercise: bool, emergency: bool = True) -> str:
    """Acknowledge a NO, so the volunteer knows it was heard."""
    return _checked(
        f"NVR {ref}: thanks for letting us know. You are not going to this call-up.", exercise, emergency
    )


def help_text() -> str:
    """Say who we are and how to answer, in reply to HELP."""
    return _checked(
        "NVR: National Volunteer Reserve. To answer a call-up, reply YES or NO and its number. "
        "PAUSE (or PAUSE 7D, PAUSE UNTIL 24 DEC): no call-ups for a while; BACK: call me again; "
        "STATUS: what you hold; EMERGENCIES ONLY: no other asks; PASSPORT: a link to your passport; "
        "LEAVE: erase me; STOP: no messages.",
        exercise=False,
    )


def passport_link_text(*, url: str, minutes: int) -> str:
    """Answer PASSPORT with a link that shows the volunteer's passport once; it only shows."""
    return _checked(
        f"NVR: your volunteer passport: {url} . It works once, for {minutes} minutes, and only shows what "
        "we hold. Not you? Ignore this.",
        exercise=False,
    )


def passport_links_used_up_text() -> str:
    """PASSPORT again after too many links in an hour."""
    return _checked(
        "NVR: we have sent you several passport links in the last hour. Please use the newest one, or try "
        "again later.",
        exercise=False,
    )


def unknown_reply_text() -> str:
    """Answer a reply we could not read, so the volunteer is not left wondering."""
    return _checked(
        "NVR: sorry, we could not read that. A coordinator will see it. To answer a call-up, reply YES "
        "or NO and its number. You can also text PAUSE, BACK, STATUS, LEAVE or STOP.",
        exercise=False,
    )


def opted_out_text() -> str:
    """Confirm a STOP: no more messages until they opt back in."""
    return _checked(
        "NVR: you will get no more messages from the National Volunteer Reserve. "
        "Reply START to get call-ups again.",
        exercise=False,
    )


def opted_in_text() -> str:
    """Confirm a START: call-ups will come again."""
    return _checked(
        "NVR: welcome back. You will get call-ups from the National Volunteer Reserve again. "
        "Reply STOP to stop all messages.",
        exercise=False,
    )


def no_open_callup_text() -> str:
    """Answer a YES or NO when nothing is open, so it does not look like a deployment."""
    return _checked(
        "NVR: there is no open call-up for you to answer right now. Thank you. Reply HELP for help.",
        exercise=False,
    )


def ask_yes_or_no_text(*, refs: list[int], exercise: bool, emergency: bool = True) -> str:
    """Ask back when a reply could be a yes or a no ("yes but not today"), rather than guess a YES."""
    unique = list(dict.fromkeys(refs))
    if not unique:
        raise ValueError("ask_yes_or_no_text needs at least one open call-up reference")
    ref = unique[0] if len(unique) == 1 else None
    answer = f"Reply YES {ref} to go or NO {ref} if you cannot." if ref else "Reply YES or NO and the number."
    return _checked(
        f"NVR: sorry, we could not tell if that was a yes or a no. {answer} "
        "A coordinator will see your message.",
        exercise,
        emergency,
    )


class Checkin(enum.StrEnum):
    """What a volunteer tells us during a deployment."""

    eta = "ETA"
    enroute = "ENROUTE"
    arrived = "ARRIVED"
    late = "LATE"
    done = "DONE"


def checkin_text(
    *, ref: int, checkin: Checkin, minutes: int | None, exercise: bool, emergency: bool = True
) -> str:
    """Acknowledge a check-in, so the volunteer knows the coordinator has it."""
    eta = f" ETA {minutes} min noted." if minutes else ""
    said = {
        Checkin.eta: f"thanks.{eta or ' ETA noted.'}",
        Checkin.enroute: f"thanks, we know you are on your way.{eta}",
        Checkin.arrived: "thanks, your arrival is recorded. Report to the coordinator on site.",
        Checkin.late: f"thanks, we know you are running {minutes} min late."
        if minutes
        else "thanks, we know you are running late.",
        Checkin.done: "thank you, you are signed off.",
    }[checkin]
    return _checked(f"NVR {ref}: {said}", exercise, emergency)


def checkin_which_text(*, word: str, refs: list[int], exercise: bool, emergency: bool = True) -> str:
    """Ask which deployment a check-in is for, when the volunteer is confirmed for several."""
    options = " or ".join(f"{word} {ref}" for ref in dict.fromkeys(refs))
    return _checked(
        f"NVR: you are confirmed for more than one call-up. Reply {options}.", exercise, emergency
    )


def no_deployment_text() -> str:
    """Answer a check-in from someone with no confirmed call-up; a coordinator sees it."""
    return _checked(
        "NVR: we have no confirmed call-up for you to check in to. A coordinator will see your message.",
        exercise=False,
    )


def welfare_check_text(*, ref: int, after_done: bool, exercise: bool, emergency: bool = True) -> str:
    """Ask a volunteer who was deployed whether they got home safely."""
    opening = "thank you, you are signed off." if after_done else "thank you for your help."
    return _checked(f"NVR {ref}: {opening} Are you safe and home? Reply OK", exercise, emergency)


def welfare_ok_text(*, ref: int, exercise: bool, emergency: bool = True) -> str:
    """Thank a volunteer who answered the welfare check."""
    return _checked(f"NVR {ref}: thank you, glad you are safe.", exercise, emergency)


# The volunteer's own commands (PAUSE, BACK, STATUS, LEAVE) and the answer to JOIN from a stranger.


def paused_text(*, back_on: str | None, released: list[int]) -> str:
    """Confirm a PAUSE with the day they come back (or BACK), and any call-up it released them from."""
    until = f"until {back_on}" if back_on else "until you reply BACK"
    freed = ""
    if released:
        refs = ", ".join(str(r) for r in released[:3])
        freed = f" You are released from call-up {refs}; we will ask someone else."
    return _checked(
        f"NVR: paused. No call-ups {until}.{freed} Reply BACK to return sooner.",
        exercise=False,
    )


def back_text() -> str:
    """Confirm a BACK (or a pause that ended by itself): call-ups will come again."""
    return _checked(
        "NVR: you are back on the National Volunteer Reserve: we will call you when you are needed. "
        "Reply PAUSE for a break.",
        exercise=False,
    )


def not_paused_text() -> str:
    """Answer a BACK from someone who was not paused, so it does not look like nothing happened."""
    return _checked(
        "NVR: you are not paused: we will call you when you are needed. Reply STATUS to see what we hold.",
        exercise=False,
    )


def emergencies_only_text() -> str:
    """Confirm EMERGENCIES ONLY: no more organisations' asks that are not emergencies."""
    return _checked(
        "NVR: You will only be asked to help in emergencies. Text ALL ASKS to hear about other "
        "volunteering too.",
        exercise=False,
    )


def all_asks_text() -> str:
    """Confirm ALL ASKS: organisations' other asks (each marked as not an emergency) come again."""
    return _checked(
        "NVR: You will be asked to help in emergencies and with other volunteering, marked Not an "
        "emergency. Text EMERGENCIES ONLY to hear of emergencies only.",
        exercise=False,
    )


def status_text(*, state: str, skills: list[str], callups: list[str]) -> str:
    """What we hold: active or paused, skills with their expiry, open call-ups; the last ones are left
    out (call-ups first kept) until it fits the segment budget."""

    def render(skills: list[str], callups: list[str]) -> str:
        held = "Skills: " + "; ".join(skills) + "." if skills else "No skills recorded."
        open_ = " Open call-ups: " + "; ".join(callups) + "." if callups else ""
        return f"NVR: you are {state}. {held}{open_}"

    while not fits(render(skills, callups), MAX_SEGMENTS) and (skills or callups):
        if len(skills) > 1 or not callups:
            skills = skills[:-1]
        else:
            callups = callups[:-1]
    return _checked(render(skills, callups), exercise=False)


def leave_code_text(*, code: str, minutes: int) -> str:
    """Answer LEAVE with the code that confirms it: one text is never enough to erase a person."""
    return _checked(
        f"NVR: to leave and erase everything we hold about you, reply LEAVE {code} within {minutes} "
        "minutes. Not you? Ignore this. To stop texts only, reply STOP.",
        exercise=False,
    )


def leave_code_wrong_text(*, tries_left: int) -> str:
    """A LEAVE with a wrong code: nothing is erased yet."""
    plural = "try" if tries_left == 1 else "tries"
    return _checked(
        f"NVR: that code is not right ({tries_left} {plural} left). Nothing is erased. Reply LEAVE and the "
        "code from our last text.",
        exercise=False,
    )


def leave_code_dead_text() -> str:
    """A LEAVE with a code that expired or had too many wrong tries, or with no code asked for."""
    return _checked(
        "NVR: that code no longer works. Nothing is erased. Reply LEAVE for a new code.", exercise=False
    )


def leave_codes_used_up_text() -> str:
    """LEAVE again after three codes in the hour: a guard against someone texting from a spoofed phone."""
    return _checked(
        "NVR: we have sent you three codes this hour. Use the newest one (reply LEAVE and the code) or try "
        "again later.",
        exercise=False,
    )


def left_text() -> str:
    """The last message after LEAVE: everything is erased, and how to come back."""
    return _checked(
        "NVR: you have left the National Volunteer Reserve and we have erased what we held about you. "
        "Thank you for all you gave. Text JOIN to come back one day.",
        exercise=False,
    )


def join_link_text(*, url: str | None) -> str:
    """The answer to a text from a phone we do not know: where to sign up, and that a person reads it."""
    join = f" To join, sign up at {url} ." if url else ""
    return _checked(
        f"NVR: this number is not on the National Volunteer Reserve.{join} A coordinator will read your "
        "message.",
        exercise=False,
    )


def already_joined_text() -> str:
    """The answer to JOIN from a volunteer already on the reserve."""
    return _checked(
        "NVR: you are already on the National Volunteer Reserve. Reply STATUS to see what we hold.",
        exercise=False,
    )


# Joining at /join: the one-time code, the welcome, and the answer to a duplicate sign-up's update.

CODE_PURPOSES = {
    "signup": "to join the National Volunteer Reserve",
    "update": "to update your details with us",
    "leave": "to leave and erase what we hold",
}


def verification_code_text(*, code: str, purpose: str, minutes: int) -> str:
    """A one-time code: the code first (phones show it in the notification), what it is for, how long it
    lasts, and that nobody from us will ask for it."""
    return _checked(
        f"{code} is your NVR code {CODE_PURPOSES[purpose]}. It lasts {minutes} min. Never share it. "
        "Not you? Ignore this.",
        exercise=False,
    )


# Keeping the reserve alive: credentials about to expire, the yearly "are you still available?" check.


def expiry_reminder_text(*, skills: list[str]) -> str:
    """Remind a volunteer of the skills about to expire ("First aid on 14 Dec 2026"), in one segment when
    it can be: the last ones are left out, counted, until it fits."""
    if not skills:
        raise ValueError("expiry_reminder_text needs at least one skill")

    def render(shown: list[str]) -> str:
        more = f" and {len(skills) - len(shown)} more" if len(shown) < len(skills) else ""
        due = f"due to expire: {'; '.join(_clean(s) for s in shown)}{more}" if shown else "skills expire soon"
        return (
            f"NVR: {due}. Please renew with your organisation to keep being called. "
            "Reply STATUS for your skills."
        )

    shown = list(skills)
    while len(shown) > 1 and not fits(render(shown), 1):
        shown.pop()
    body = _fitting(render(shown)) or _shortened(lambda first: render([first]), skills[0])
    return _checked(body or render([]), exercise=False)


def milestone_text(*, hours: int) -> str:
    """Thank a volunteer whose hours on the reserve (deployments and activities) reached a milestone."""
    return _checked(
        f"NVR: thank you! You have now given {hours} hours as a volunteer with the National Volunteer "
        "Reserve. It is on your passport. Reply STATUS to see what we hold.",
        exercise=False,
    )


def credential_rejected_text(*, skill: str, organisation: str, reason: str) -> str:
    """Tell a volunteer an organisation could not verify a skill they hold, and why; until it is
    verified they are not called for it. A long reason is cut to fit."""

    def render(why: str) -> str:
        return (
            f"NVR: {_cut(_clean(organisation), 60)} could not verify your {_cut(_clean(skill), 60)}: "
            f"{_sentence(_clean(why))} "
            "We will not call you for it until it is verified. Questions? Ask your organisation."
        )

    body = _fitting(render(reason)) or _shortened(render, _clean(reason)) or render("see your organisation")
    return _checked(body, exercise=False)


def availability_check_text(*, answer_within_days: int) -> str:
    """Ask, once a year, whether a volunteer can still be called; silence makes them inactive."""
    return _checked(
        "NVR: can we still call you when you are needed? Reply YES, PAUSE for a break or LEAVE. "
        f"No reply in {answer_within_days} days and we stop calling you.",
        exercise=False,
    )


def welcome_text() -> str:
    """After joining: honestly how often they may be called, and how to pause or leave."""
    return _checked(
        "NVR: welcome to the National Volunteer Reserve. We text only when an emergency or an "
        "organisation near you needs your skills: for most people a few times a year, never a promise. "
        "Say YES or NO each time. "
        "Reply PAUSE for a break, STATUS to see what we hold, LEAVE to go.",
        exercise=False,
    )


def details_updated_text() -> str:
    """After a duplicate sign-up was confirmed with its code: the details are the new ones."""
    return _checked(
        "NVR: your details on the National Volunteer Reserve are updated. Reply STATUS to see what we hold.",
        exercise=False,
    )


def available_confirmed_text() -> str:
    """Thank a volunteer who answered the yearly check with YES."""
    return _checked("NVR: thank you, you stay on the reserve. We will call you when you are needed.", False)


def marked_inactive_text() -> str:
    """Tell a volunteer who never answered the yearly check that we stopped calling, and how to come back."""
    return _checked(
        "NVR: we did not hear from you, so we will not call you for now. Text BACK at any time to be "
        "called again.",
        exercise=False,
    )


def coordinator_text(*, ref: int | None, text: str, exercise: bool, emergency: bool = True) -> str:
    """A coordinator's own text to a volunteer, marked as ours (and as a drill or an ask when it is one)."""
    return _prefixed(f"NVR {ref}: {_clean(text)}" if ref else f"NVR: {_clean(text)}", exercise, emergency)


def _prefixed(body: str, exercise: bool, emergency: bool = True) -> str:
    """Mark every message of a drill so nobody mistakes it for the real thing, and every message of an
    organisation's ask so nobody mistakes it for an emergency."""
    marked = body if emergency else ASK_PREFIX + body
    return EXERCISE_PREFIX + marked if exercise else marked


def _checked(body: str, exercise: bool, emergency: bool = True) -> str:
    """A fixed text with its prefixes; refuses to send one that grew past the segment budget."""
    text = _prefixed(body, exercise, emergency)
    if not fits(text, MAX_SEGMENTS):
        raise ValueError(f"message exceeds {MAX_SEGMENTS} segments: {text!r}")
    return text


def _clean(value: str) -> str:
    """One line, single spaces: names typed into forms carry newlines and runs of spaces."""
    return " ".join(value.split())


def _sentence(text: str) -> str:
    """End with a full stop, without doubling one already there (a cut value ends in '...')."""
    return text if text.endswith(".") else text + "."


def _cut(value: str, length: int) -> str:
    """The first `length` characters, marked as cut when anything was removed."""
    if len(value) <= length:
        return value
    return value[:length].rstrip(" ,.;:-") + _ELLIPSIS


def _fitting(text: str) -> str | None:
    """The text when it fits the segment budget, else None."""
    return text if fits(text, MAX_SEGMENTS) else None


def _shortened(render: Callable[[str], str], value: str | None) -> str | None:
    """Render with the longest cut of value that fits, keeping at least _MIN_KEPT characters."""
    if not value:
        return None
    whole = render(value)
    if fits(whole, MAX_SEGMENTS):
        return whole
    # Below the whole value, segments only grow with the kept prefix: binary search for the longest.
    best = None
    low, high = _MIN_KEPT, len(value) - 1
    while low <= high:
        middle = (low + high) // 2
        text = render(_cut(value, middle))
        if fits(text, MAX_SEGMENTS):
            best, low = text, middle + 1
        else:
            high = middle - 1
    return best
