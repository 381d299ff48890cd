"""A tiny in-memory mailbox."""

from __future__ import annotations

from collections import defaultdict, deque


class Mailbox:
    def __init__(self) -> None:
        self._queues: defaultdict[str, deque[str]] = defaultdict(deque)

    def send(self, address: str, message: str) -> None:
        self._queues[address].append(message)

    def receive(self, address: str) -> list[str]:
        queue = self._queues[address]
        messages = list(queue)
        queue.clear()
        return messages
