"""The bodies of the database commands of the CLI (``migrate``, ``check``); cli.py only parses arguments."""
