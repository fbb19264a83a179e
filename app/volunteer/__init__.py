"""The reserve: volunteers, their passport of credentials, and their availability."""
