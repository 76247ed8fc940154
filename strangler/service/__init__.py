"""The chassis every backend runs on: tokens, request ids, health, JSON logs, service calls."""
