"""The `nvr` operator command line."""
