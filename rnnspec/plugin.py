"""pytest plugin placeholder; replaced by the conformance-checker plugin."""
