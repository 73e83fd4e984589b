"""Shared helpers for the test suite: a fake Slack Web API, signed request builders and Block Kit checks."""
