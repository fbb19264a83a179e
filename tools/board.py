"""An incident's board as a rich table: one row per need, from the API's IncidentRead JSON.

Shared by the demo's live view and `nvr incidents show|watch`, so both read the same way.
"""

from typing import Any

from rich.markup import escape
from rich.table import Table

COLUMNS = (
    "need",
    "count",
    "called",
    "accepted",
    "declined",
    "awaiting",
    "failed",
    "stood down",
    "waves",
    "km",
)


def board_table(incident: dict[str, Any], *, title: str | None = None) -> Table:
    """Per need: called, accepted, declined, awaiting, failed, stood down, waves, radius (title in markup)."""
    table = Table(title=title if title is not None else escape(f"{incident['title']} ({incident['place']})"))
    for column in COLUMNS:
        table.add_column(column, justify="left" if column == "need" else "right")
    for need in incident["needs"]:
        if need["filled"]:
            label = f"[green]{need['skill']} ✓[/]"
        elif need.get("exhausted"):
            label = f"[red]{need['skill']} (exhausted)[/]"
        else:
            label = need["skill"]
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
    return table


def fill_line(incident: dict[str, Any]) -> str:
    """The board in words: "9 filled, 3 to go, 15 not answered yet"."""
    needs = incident["needs"]
    filled = sum(min(n["accepted"], n["count"]) for n in needs)
    wanted = sum(n["count"] for n in needs)
    awaiting = sum(n["pending"] for n in needs)
    return f"{filled} filled, {wanted - filled} to go, {awaiting} not answered yet"
