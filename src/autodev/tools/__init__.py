"""Tools agents use to act on the repository, and the workspace that confines them."""
