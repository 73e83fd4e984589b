"""Adapters to the outside world that know nothing of the database or Slack.

Plain dataclasses go in; bytes, MIME messages and deliveries come out, so the booking flow can
build side effects inside a transaction and the outbox can deliver (and retry) them later.
"""
