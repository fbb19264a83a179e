"""Pure messaging library: SMS texts, segments, replies, signatures, senders, rate limits."""
