import unittest

from textkit import truncate, word_count


class WordCountTests(unittest.TestCase):
    def test_counts_words(self):
        self.assertEqual(word_count("the quick brown fox"), 4)

    def test_ignores_extra_whitespace(self):
        self.assertEqual(word_count("  many   spaces\there \n"), 3)

    def test_empty_string(self):
        self.assertEqual(word_count(""), 0)


class TruncateTests(unittest.TestCase):
    def test_short_text_unchanged(self):
        self.assertEqual(truncate("hello", 10), "hello")

    def test_cuts_with_suffix(self):
        self.assertEqual(truncate("The quick brown fox", 10), "The quick…")

    def test_custom_suffix(self):
        self.assertEqual(truncate("abcdefghij", 6, suffix="..."), "abc...")

    def test_negative_width_rejected(self):
        with self.assertRaises(ValueError):
            truncate("text", -1)


if __name__ == "__main__":
    unittest.main()
