"""Call-ups: one volunteer asked to serve one need of one incident, and what they answered."""
