class UnknownUnit(ValueError):
    """A unit name the converter does not know."""
