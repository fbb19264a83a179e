"""The volunteer passport as credentials they can carry: Open Badges 3.0, signed as VC-JOSE."""
