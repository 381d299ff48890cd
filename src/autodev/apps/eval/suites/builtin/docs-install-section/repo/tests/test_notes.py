import tempfile
import unittest
from pathlib import Path

from notekeeper import add, find


class NoteTests(unittest.TestCase):
    def test_add_and_find(self):
        with tempfile.TemporaryDirectory() as tmp:
            store = Path(tmp) / "notes.txt"
            add(store, "buy milk")
            add(store, "call Ada")
            self.assertEqual(find(store, "MILK"), ["buy milk"])
