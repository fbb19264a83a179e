"""nvr: the National Volunteer Reserve service."""
