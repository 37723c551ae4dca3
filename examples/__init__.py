"""Worked examples of checking your own implementation with rnnspec."""
