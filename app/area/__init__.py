"""Resilience areas: the polygons local resilience forums (and their Scottish and NI peers) cover."""
