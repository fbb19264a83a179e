"""Twilio webhooks: inbound SMS replies and delivery receipts, both signature-checked."""
