"""Deliberately wrong RNN implementations that the conformance checker must catch."""
