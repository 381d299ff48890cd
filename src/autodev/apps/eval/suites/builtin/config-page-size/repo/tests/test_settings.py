import tempfile
import unittest
from pathlib import Path

from catalog.settings import load


class SettingsTests(unittest.TestCase):
    def test_override(self):
        with tempfile.TemporaryDirectory() as tmp:
            override = Path(tmp) / "catalog.toml"
            override.write_text("[display]\ncurrency = 'GBP'\n", encoding="utf-8")
            settings = load(override)
        self.assertEqual(settings["display"]["currency"], "GBP")
        self.assertTrue(settings["display"]["show_stock"])
