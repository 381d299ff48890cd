import unittest

from mailkit import Mailbox


class MailboxTests(unittest.TestCase):
    def test_send_receive(self):
        box = Mailbox()
        box.send("a", "1")
        box.send("a", "2")
        self.assertEqual(box.receive("a"), ["1", "2"])
        self.assertEqual(box.receive("a"), [])
