"""The coordinator's console page: its template and static assets (served by app/api/console.py)."""
