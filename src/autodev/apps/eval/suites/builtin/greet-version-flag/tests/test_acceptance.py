import io
import unittest
from contextlib import redirect_stdout
from unittest import mock

import greet
from greet.cli import main


class VersionTests(unittest.TestCase):
    def run_main(self, argv):
        buffer = io.StringIO()
        code = None
        with redirect_stdout(buffer):
            try:
                code = main(argv)
            except SystemExit as exc:
                code = exc.code
        return code, buffer.getvalue()

    def test_version(self):
        code, out = self.run_main(["--version"])
        self.assertIn(code, (0, None))
        self.assertEqual(out.strip(), "greet 1.2.0")

    def test_version_follows_package(self):
        with mock.patch.object(greet, "__version__", "9.9.9"):
            code, out = self.run_main(["--version"])
        self.assertEqual(out.strip(), "greet 9.9.9")

    def test_greeting_still_works(self):
        code, out = self.run_main(["Ada", "--shout"])
        self.assertEqual(code, 0)
        self.assertEqual(out, "HELLO, ADA!\n")
