"""The command line: each command parses its options, calls one function below, and prints."""
