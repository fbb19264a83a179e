"""`nvr keys rotate` and `nvr keys list` on the test's database."""

from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.badge.models import SigningKey
from cli.main import cli


def test_rotate_makes_a_new_current_key_and_keeps_the_old_one_listed(
    db: Session, app_on_test_session: None
) -> None:
    runner = CliRunner()
    before = len(db.scalars(select(SigningKey)).all())  # a key other tests made may be there already
    first = runner.invoke(cli, ["keys", "rotate"])
    second = runner.invoke(cli, ["keys", "rotate"])
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    rows = db.scalars(select(SigningKey).order_by(SigningKey.id)).all()[before:]
    assert len(rows) == 2
    assert rows[0].retired_at is not None and rows[1].retired_at is None
    assert db.scalars(select(SigningKey).where(SigningKey.retired_at.is_(None))).all() == [rows[1]]
    assert rows[1].kid in second.output
    listed = runner.invoke(cli, ["keys", "list"])
    assert listed.exit_code == 0
    assert rows[0].kid in listed.output and rows[1].kid in listed.output
    assert "PRIVATE" not in listed.output
