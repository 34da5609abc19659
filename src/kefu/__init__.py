"""Kefu: contact-center platform for a bank's customer service center."""

__version__ = "0.1.0"
