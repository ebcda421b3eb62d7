"""Browser tests of the Reflex app (run on their own: pytest tests/e2e)."""
