"""kbengine: a knowledge base and troubleshooting decision-tree engine for IT service desks."""

__version__ = "0.1.0"


def search(query: str, root: str | None = None, **filters: object) -> object:
    """Search the KB at `root` (default: found from the current folder): see kbengine.search."""
    from kbengine.search import search_folder  # keeps `import kbengine` cheap

    return search_folder(query, root, **filters)  # type: ignore[arg-type]
