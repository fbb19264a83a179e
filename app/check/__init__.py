"""Disclosure and barring checks as the law defines them: the scheme (DBS or Scotland's PVG), the level,
the workforce, the certificate's date and when it was last confirmed; and whether a need's check is met."""
