"""Bearer tokens tied to a role."""
