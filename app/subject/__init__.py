"""Subject access: everything the reserve holds on one person, gathered from every package."""
