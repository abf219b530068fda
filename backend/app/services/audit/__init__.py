"""The audit log of configuration changes, and the events timeline plugins feed (issue 20)."""
