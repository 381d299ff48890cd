import re
import unittest
from pathlib import Path

README = Path(__file__).resolve().parent / "README.md"


def sections(text):
    return re.findall(r"^## (.+)$", text, flags=re.MULTILINE)


class InstallationTests(unittest.TestCase):
    def setUp(self):
        self.text = README.read_text(encoding="utf-8")

    def test_section_after_introduction(self):
        self.assertEqual(sections(self.text)[0].strip().lower(), "installation")

    def test_other_sections_kept(self):
        self.assertEqual([s.strip().lower() for s in sections(self.text)[1:]], ["usage", "licence"])

    def test_pip_command(self):
        install = self.text.split("## Installation", 1)[1].split("\n## ", 1)[0]
        self.assertIn("pip install notekeeper", install)

    def test_python_version(self):
        install = self.text.split("## Installation", 1)[1].split("\n## ", 1)[0]
        self.assertRegex(install, r"3\.11")

    def test_title_and_intro_kept(self):
        self.assertTrue(self.text.startswith("# notekeeper\n\nKeep short notes"))
