"""Timing: the workloads the speed claims name, and how they are timed side by side."""
