"""The sentence encoder: building multilingual-e5-small offline and loading it."""
