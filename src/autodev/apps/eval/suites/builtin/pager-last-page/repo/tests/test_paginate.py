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
