"""The static self-service help site: `build_site(kb, out)` renders site/ from a compiled KB."""

from kbengine.site.builder import ContentErrors, SiteSummary, build_site
from kbengine.site.output import OutputError
from kbengine.site.pagefind import SearchIndexError

__all__ = ["ContentErrors", "OutputError", "SearchIndexError", "SiteSummary", "build_site"]
