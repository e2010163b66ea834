"""Data-poisoning track (seeds 001 and 002): victims retrained on clean + poison data."""
