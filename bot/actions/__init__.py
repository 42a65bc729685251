"""Custom actions, one module per flow. Loaded by `rasa run actions --actions bot.actions`."""
