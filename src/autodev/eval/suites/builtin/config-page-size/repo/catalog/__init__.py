"""A product catalogue browser."""
