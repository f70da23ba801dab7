"""The managers' commands: /stats and /export, in a private chat with the bot or in the
managers' chat; only MANAGER_IDS may use them (handlers/__init__.py puts this router first)."""
