"""Block Kit builders: plain data in, ``slack_sdk.models`` blocks and views out.

Pure functions only: no database, no network. Every action, callback and block id is defined once,
in ``blocks.ids``.
"""
