import unittest

from pager import PageOutOfRange, paginate


class PaginateTests(unittest.TestCase):
    def test_first_page(self):
        page = paginate(list(range(10)), 1, 5)
        self.assertEqual(page.items, [0, 1, 2, 3, 4])
        self.assertTrue(page.has_next)

    def test_out_of_range(self):
        with self.assertRaises(PageOutOfRange):
            paginate([1, 2], 2, 5)

    def test_partial_last_page(self):
        page = paginate(list(range(11)), 3, 5)
        self.assertEqual(page.items, [10])
        self.assertEqual(page.pages, 3)
        self.assertFalse(page.has_next)

    def test_middle_page_has_next(self):
        self.assertTrue(paginate(list(range(11)), 2, 5).has_next)

    def test_exact_multiple(self):
        self.assertEqual(paginate(list(range(10)), 2, 5).pages, 2)

    def test_fewer_items_than_a_page(self):
        page = paginate([1, 2, 3], 1, 5)
        self.assertEqual((page.items, page.pages, page.has_next), ([1, 2, 3], 1, False))

    def test_empty_list_has_one_page(self):
        page = paginate([], 1, 5)
        self.assertEqual((page.items, page.pages), ([], 1))

    def test_beyond_last_page(self):
        with self.assertRaises(PageOutOfRange):
            paginate(list(range(11)), 4, 5)
