"""Organisations (charities, councils, faith groups) that volunteers belong to and that issue credentials."""
