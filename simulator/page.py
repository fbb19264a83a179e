"""The simulator's one HTML page: each volunteer's conversation, for demos and debugging."""

from html import escape

from simulator.store import INBOUND, SimMessage


def conversations_page(messages: list[SimMessage], *, phone_number: str) -> str:
    """Render conversations grouped by volunteer number, latest activity first, all text escaped."""
    threads: dict[str, list[SimMessage]] = {}
    for message in messages:
        threads.setdefault(message.counterpart, []).append(message)
    latest_first = sorted(threads.items(), key=lambda item: item[1][-1].date_created, reverse=True)
    sections = [_thread(number, thread) for number, thread in latest_first]
    body = "\n".join(sections) or "<p>No messages yet.</p>"
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="3">
<title>NVR SMS simulator</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5rem; max-width: 50rem; }}
section {{ border: 1px solid #ccc; border-radius: 6px; padding: 0.5rem 1rem; margin-bottom: 1rem; }}
.msg {{ margin: 0.4rem 0; padding: 0.4rem 0.6rem; border-radius: 6px; white-space: pre-wrap; }}
.out {{ background: #e8f0fe; margin-right: 4rem; }}
.in {{ background: #e6f4ea; margin-left: 4rem; }}
.meta {{ color: #555; font-size: 0.8rem; }}
</style>
</head>
<body>
<h1>NVR SMS simulator</h1>
<p>Our number: {escape(phone_number)}. Refreshes every 3 seconds.</p>
{body}
</body>
</html>
"""


def _thread(number: str, messages: list[SimMessage]) -> str:
    """One volunteer's messages in the order they happened."""
    items = []
    for message in messages:
        inbound = message.direction == INBOUND
        status = message.status if message.error_code is None else f"{message.status} ({message.error_code})"
        items.append(
            f'<div class="msg {"in" if inbound else "out"}">{escape(message.body)}'
            f'<div class="meta">{"from volunteer" if inbound else "to volunteer"} · {escape(status)} · '
            f"{message.num_segments} segment(s) · {message.date_created:%H:%M:%S} · {escape(message.sid)}"
            "</div></div>"
        )
    return f"<section><h2>{escape(number)}</h2>\n" + "\n".join(items) + "\n</section>"
