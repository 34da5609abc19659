"""Fixtures of the e-mail tests: real mail servers (aiosmtpd for outgoing replies, dovecot for IMAP)."""

from tests.channels.test_email import smtp_server  # noqa: F401  (the fixture)
from tests.mail.helpers import dovecot  # noqa: F401  (the fixture)
