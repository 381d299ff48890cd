import unittest
from pathlib import Path

README = Path(__file__).resolve().parent / "README.md"
EXPECTED = """\
# mailkit

A tiny in-memory mailbox for tests: send messages to an address, then receive them in order.

## Usage

Each address has a separate queue. Messages you receive are removed from the queue.

```python
from mailkit import Mailbox

box = Mailbox()
box.send("ada@example.org", "hello")
box.receive("ada@example.org")  # ["hello"]
```

Keep addresses separate per test so tests stay independent.
"""


class TypoTests(unittest.TestCase):
    def setUp(self):
        self.text = README.read_text(encoding="utf-8")

    def test_typos_gone(self):
        self.assertNotIn("recieve", self.text)
        self.assertNotIn("seperate", self.text)

    def test_corrected_words(self):
        self.assertEqual(self.text.count("receive"), 3)
        self.assertEqual(self.text.count("separate"), 2)

    def test_nothing_else_changed(self):
        self.assertEqual(self.text.rstrip(), EXPECTED.rstrip())
