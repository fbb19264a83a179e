"""The managed catalogue of skills a volunteer passport can hold."""
