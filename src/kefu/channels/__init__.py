"""Outbound and inbound channels. So far: the SMS port (``kefu.channels.sms``) and its outbox table."""
