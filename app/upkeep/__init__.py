"""Keeping the reserve alive: expiry reminders, the yearly availability check, and who falls silent."""
