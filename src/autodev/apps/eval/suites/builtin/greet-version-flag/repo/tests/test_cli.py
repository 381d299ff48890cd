import io
import unittest
from contextlib import redirect_stdout

from greet.cli import greeting, main


class CliTests(unittest.TestCase):
    def test_greeting(self):
        self.assertEqual(greeting("Ada"), "Hello, Ada!")

    def test_shout(self):
        self.assertEqual(greeting("Ada", shout=True), "HELLO, ADA!")

    def test_main_prints(self):
        buffer = io.StringIO()
        with redirect_stdout(buffer):
            self.assertEqual(main(["Ada"]), 0)
        self.assertEqual(buffer.getvalue(), "Hello, Ada!\n")
