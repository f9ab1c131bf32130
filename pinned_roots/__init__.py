"""Reviewed trust data shipped with certguard (pins, known interceptors, default sites). See README.md."""
