"""The one error the spatial library raises, so the service can map it to a single response."""


class GeometryError(ValueError):
    """Input geometry is unusable; the message names the field, what is wrong and where."""
