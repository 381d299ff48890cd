import unittest

from textstats import unique_words, word_count
from textstats.tokenize import words


class StatsTests(unittest.TestCase):
    def test_words_lowercase(self):
        self.assertEqual(words("The cat, the HAT."), ["the", "cat", "the", "hat"])

    def test_word_count(self):
        self.assertEqual(word_count("one two  three"), 3)

    def test_unique(self):
        self.assertEqual(unique_words("a b a"), {"a", "b"})
