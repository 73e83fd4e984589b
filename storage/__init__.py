"""Persistence: SQLAlchemy models, engine and sessions, query functions, migrations.

Imports nothing else of Interview Desk, so any layer may depend on it.
"""
