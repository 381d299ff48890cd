import unittest

from textstats import top_words


class TopWordsTests(unittest.TestCase):
    def test_most_frequent_first(self):
        text = "the cat and the hat and the bat"
        self.assertEqual(top_words(text, 2), [("the", 3), ("and", 2)])

    def test_ties_alphabetical(self):
        self.assertEqual(top_words("pear apple fig", 3), [("apple", 1), ("fig", 1), ("pear", 1)])

    def test_uses_tokenizer(self):
        self.assertEqual(top_words("Dog! dog, DOG? cat", 1), [("dog", 3)])

    def test_fewer_words_than_n(self):
        self.assertEqual(top_words("one two", 5), [("one", 1), ("two", 1)])

    def test_n_below_one(self):
        self.assertEqual(top_words("one two", 0), [])

    def test_empty_text(self):
        self.assertEqual(top_words("", 3), [])
