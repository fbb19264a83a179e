"""Every SMS in and out: rows first, then sent by workers; the database is the source of truth."""
