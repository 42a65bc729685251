"""Reading each customer turn in the context of the conversation (docs/dialogue.md)."""
