"""Incidents: an area, needs per skill, and the waves that fill them."""
