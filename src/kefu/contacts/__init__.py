"""Contacts: every interaction on every channel, its wrap-up and follow-ups, and service level (R1.1-R1.7)."""
