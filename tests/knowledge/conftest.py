"""Knowledge-base tests use the application as ``create_app`` builds it (tests/conftest.py's ``app``);
generated data only."""
