"""The simulator's one HTML page: each volunteer's conversation, and a form to answer as any of them."""

from html import escape

from simulator.store import INBOUND, SimMessage

REPLY_PATH = "/simulator/reply"  # where the forms post (urlencoded); handled as /simulator/inbound is

# Reload to show new messages, but never while a person is typing an answer (it would be lost).
_REFRESH = """<script>
setInterval(() => {
  const typing = [...document.querySelectorAll("input[name=body], input[name=from]")]
    .some((field) => field === document.activeElement || (field.name === "body" && field.value));
  if (!typing) location.reload();
}, 3000);
</script>"""


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
<title>NVR SMS simulator</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5rem; max-width: 50rem; }}
section {{ border: 1px solid #ccc; border-radius: 6px; padding: 0.5rem 1rem; margin-bottom: 1rem; }}
.msg {{ margin: 0.4rem 0; padding: 0.4rem 0.6rem; border-radius: 6px; white-space: pre-wrap; }}
.out {{ background: #e8f0fe; margin-right: 4rem; }}
.in {{ background: #e6f4ea; margin-left: 4rem; }}
.meta {{ color: #555; font-size: 0.8rem; }}
form {{ display: flex; gap: 0.5rem; margin: 0.5rem 0; }}
form input[name=body] {{ flex: 1; }}
</style>
</head>
<body>
<h1>NVR SMS simulator</h1>
<p>Our number: {escape(phone_number)}. Refreshes every 3 seconds, except while you type an answer.</p>
<section><h2>Text us as any volunteer</h2>
<form method="post" action="{REPLY_PATH}">
<input name="from" required placeholder="+447700900123" aria-label="volunteer's number">
<input name="body" required placeholder="YES 12" aria-label="message">
<button type="submit">Send</button>
</form></section>
{body}
{_REFRESH}
</body>
</html>
"""


def _thread(number: str, messages: list[SimMessage]) -> str:
    """One volunteer's messages in the order they happened."""
    items = []
    for message in messages:
        inbound = message.direction == INBOUND
        status = message.status if message.error_code is None else f"{message.status} ({message.error_code})"
        if inbound:  # a 403 here means the app and the simulator disagree on PUBLIC_BASE_URL or the token
            answered = message.webhook_status
            status += f", the app answered {answered}" if answered is not None else ", the app did not answer"
        items.append(
            f'<div class="msg {"in" if inbound else "out"}">{escape(message.body)}'
            f'<div class="meta">{"from volunteer" if inbound else "to volunteer"} · {escape(status)} · '
            f"{message.num_segments} segment(s) · {message.date_created:%H:%M:%S} · {escape(message.sid)}"
            "</div></div>"
        )
    answer = (
        f'<form method="post" action="{REPLY_PATH}">'
        f'<input type="hidden" name="from" value="{escape(number)}">'
        f'<input name="body" required placeholder="reply as {escape(number)}, e.g. YES" '
        f'aria-label="reply as {escape(number)}">'
        '<button type="submit">Send</button></form>'
    )
    return f"<section><h2>{escape(number)}</h2>\n" + "\n".join(items) + f"\n{answer}\n</section>"
