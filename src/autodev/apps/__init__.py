"""Floor 9, apps: the command line, `autodev eval`, `autodev bench`, reports and the demo. Nothing imports them."""
