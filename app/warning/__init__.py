"""Official warnings (CAP alerts, Environment Agency flood warnings): ingested, deduplicated, located."""
