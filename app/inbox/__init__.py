"""The coordinators' inbox: every message from a volunteer that the system did not act on by itself."""
