"""An incident's board as a rich table: one row per need, from the API's IncidentRead JSON.

Shared by the demo's live view and `nvr incidents show|watch`, so both read the same way.
"""

from typing import Any

from rich.markup import escape
from rich.table import Table

COLUMNS = (
    *("need", "count", "called", "accepted", "declined"),
    *("awaiting", "failed", "stood down", "waves", "km"),
)


def board_table(incident: dict[str, Any], *, title: str | None = None) -> Table:
    """Per need: called, accepted, declined, awaiting, failed, stood down, waves, radius (title in markup).

    Compact enough for an 80-column terminal; an exhausted need (nobody left within the maximum radius)
    is red with a "!".
    """
    table = Table(
        title=title if title is not None else escape(f"{incident['title']} ({incident['place']})"),
        box=None,
        padding=(0, 1, 0, 0),
        header_style="bold underline",
    )
    for column in COLUMNS:
        if column == "need":
            table.add_column(column, no_wrap=True)
        else:
            table.add_column(column.replace(" ", "\n"), justify="right")
    exhausted = False
    for need in incident["needs"]:
        if need["filled"]:
            label = f"[green]{escape(need['skill'])} ✓[/]"
        elif need.get("exhausted"):
            label, exhausted = f"[red]{escape(need['skill'])} ![/]", True
        else:
            label = escape(need["skill"])
        table.add_row(
            label,
            str(need["count"]),
            str(need["called"]),
            str(need["accepted"]),
            str(need["declined"]),
            str(need["pending"]),
            str(need.get("failed", 0)),
            str(need["stood_down"]),
            str(need["waves"]),
            f"{need['search_radius_km']:.0f}",
        )
    if exhausted:
        table.caption = "! exhausted: nobody left to ask within the maximum radius"
    return table


def fill_line(incident: dict[str, Any]) -> str:
    """The board in words: "9 filled, 3 to go, 15 not answered yet"."""
    needs = incident["needs"]
    filled = sum(min(n["accepted"], n["count"]) for n in needs)
    wanted = sum(n["count"] for n in needs)
    awaiting = sum(n["pending"] for n in needs)
    return f"{filled} filled, {wanted - filled} to go, {awaiting} not answered yet"
