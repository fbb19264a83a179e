"""Joining the reserve: the public sign-up, its one-time phone codes and the welcome."""
