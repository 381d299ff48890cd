"""Local fake LLM provider servers for tests: real wire protocol on 127.0.0.1, never the network."""
