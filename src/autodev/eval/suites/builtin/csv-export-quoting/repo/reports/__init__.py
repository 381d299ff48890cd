"""Small tabular reports."""
