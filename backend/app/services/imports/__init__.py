"""Importing history from other tools: OpenMetrics files and Uptime Kuma databases."""
