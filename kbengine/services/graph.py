"""Views of the knowledge graph (`kb graph`): the whole graph, an article's neighbourhood, a
tree's flow. Plain data; cli/output.py prints them as JSON, DOT or Mermaid."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from kbengine.graph import article_key, node_key, tree_key
from kbengine.kb import KnowledgeBase
from kbengine.services.errors import UnknownItem

# edges that join articles and trees in a neighbourhood; tree steps stand in for their tree
_CONTENT_EDGES = {"links_to", "related", "translation_of", "explains", "goto"}
_FLOW_EDGES = {"answer", "next", "goto"}


@dataclass
class View:
    """The part of the graph to print: node records by key, and edges between them."""

    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    edges: list[dict[str, Any]] = field(default_factory=list)


def node_record(kb: KnowledgeBase, key: str) -> dict[str, Any]:
    """A graph node as `{id, kind, title, path, ...}`, titled in the writer's words."""
    data = dict(kb.graph.graph.nodes[key]) if key in kb.graph.graph else {}
    prefix, _, name = key.partition(":")
    record: dict[str, Any] = {"id": key, "kind": data.pop("kind", prefix), "title": name}
    if prefix == "node":
        tree = kb.trees.get(data.get("tree", ""))
        node = tree.nodes.get(data.get("node", "")) if tree else None
        if node is not None:
            record["title"] = node.prompt or (node.escalation.team if node.escalation else "") \
                or (f"go to {node.goto}" if node.goto else node.id)
    elif prefix == "file":
        record["path"] = name
    record["title"] = data.pop("title", record["title"])
    record.update(data)
    return record


def _edge_record(source: str, target: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"source": source, "target": target, **data}


def whole_graph(kb: KnowledgeBase) -> View:
    graph = kb.graph.graph
    return View({key: node_record(kb, key) for key in graph.nodes},
                [_edge_record(s, t, d) for s, t, d in graph.edges(data=True)])


def _owner(kb: KnowledgeBase, key: str) -> str:
    """The article or tree a graph node belongs to (a tree step belongs to its tree)."""
    if key.startswith("node:"):
        return tree_key(kb.graph.graph.nodes[key]["tree"])
    return key


def neighbourhood(kb: KnowledgeBase, key: str, depth: int) -> View:
    """Articles and trees within `depth` links of `key`, whichever way the links point."""
    content = nx.MultiDiGraph()
    for source, target, data in kb.graph.graph.edges(data=True):
        if data.get("kind") not in _CONTENT_EDGES:
            continue
        owner, other = _owner(kb, source), _owner(kb, target)
        if owner == other:
            continue  # a goto inside one tree is flow, not a neighbour
        extra = {"label": source.split("#", 1)[1]} if source.startswith("node:") else {}
        content.add_edge(owner, other, kind=data["kind"], **extra)
    content.add_node(key)
    near = nx.single_source_shortest_path_length(content.to_undirected(as_view=True), key,
                                                 cutoff=depth)
    return View({k: node_record(kb, k) for k in near},
                [_edge_record(s, t, d) for s, t, d in content.subgraph(near).edges(data=True)])


def tree_flow(kb: KnowledgeBase, tree_id: str, depth: int) -> View:
    """A tree's steps and answers; each further level of depth adds the trees its gotos reach."""
    graph = kb.graph.graph
    view = View()
    level, seen = [tree_id], set()
    for _ in range(depth):
        following = []
        for current in level:
            seen.add(current)
            tree = kb.trees[current]
            view.nodes[tree_key(current)] = node_record(kb, tree_key(current))
            if tree.start in tree.nodes:
                view.edges.append(_edge_record(tree_key(current), node_key(current, tree.start),
                                               {"kind": "starts_at"}))
            for node_id in tree.nodes:
                key = node_key(current, node_id)
                view.nodes[key] = node_record(kb, key)
                for _, target, data in graph.out_edges(key, data=True):
                    if data.get("kind") in _FLOW_EDGES:
                        view.edges.append(_edge_record(key, target, data))
                        other = graph.nodes[target]["tree"]
                        if other not in seen:
                            following.append(other)
        level = list(dict.fromkeys(following))
    for edge in view.edges:  # a goto's target step is shown even beyond the depth
        view.nodes.setdefault(edge["target"], node_record(kb, edge["target"]))
    return view


def graph_view(kb: KnowledgeBase, item_id: str | None = None, depth: int = 1) -> View:
    """The whole graph; a tree's flow; or an article's neighbourhood. UnknownItem if no such id."""
    if item_id is None:
        return whole_graph(kb)
    if item_id in kb.trees:
        return tree_flow(kb, item_id, depth)
    if item_id in kb.articles:
        return neighbourhood(kb, article_key(item_id), depth)
    raise UnknownItem(item_id, [*kb.articles, *kb.trees])
