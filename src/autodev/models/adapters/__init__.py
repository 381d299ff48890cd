"""Provider adapters: each maps the provider-neutral protocol to one wire format through the official SDK."""
