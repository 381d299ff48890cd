"""Split lists into numbered pages."""

from pager.paginate import Page, PageOutOfRange, paginate

__all__ = ["Page", "PageOutOfRange", "paginate"]
