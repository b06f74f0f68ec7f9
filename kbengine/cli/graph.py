"""`kb graph [ID]`: the knowledge graph, or one item's neighbourhood or flow, as JSON, DOT or Mermaid."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import networkx as nx

from kbengine.cli.options import close_ids, open_kb, root_option
from kbengine.compiler import KnowledgeBase
from kbengine.graph import article_key, node_key, tree_key

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


def as_json(view: View) -> str:
    return json.dumps({"nodes": list(view.nodes.values()), "edges": view.edges},
                      ensure_ascii=False, indent=2, default=str)


def _dot_text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def as_dot(view: View) -> str:
    lines = ["digraph kb {", "  node [shape=box];"]
    for key, record in view.nodes.items():
        lines.append(f"  {_dot_text(key)} [label={_dot_text(record['title'])}, "
                     f"kind={_dot_text(record.get('node_kind') or record['kind'])}];")
    for edge in view.edges:
        label = f", label={_dot_text(edge['label'])}" if "label" in edge else ""
        lines.append(f"  {_dot_text(edge['source'])} -> {_dot_text(edge['target'])} "
                     f"[kind={_dot_text(edge['kind'])}{label}];")
    lines.append("}")
    return "\n".join(lines)


# Mermaid reads `#...;` as a character code and gives quotes, brackets, pipes, `*` and `` ` ``
# their own meaning; writing each of them as a code keeps any label literal.
_MERMAID_SPECIAL = set('"#&<>[](){}|*`%\\')
_SHAPES = {"ask": ("{", "}"), "do": ("[", "]"), "solved": ("([", "])"),
           "escalate": ("[[", "]]"), "goto": (">", "]"), "tree": ("[/", "/]"),
           "article": ("[", "]")}


def mermaid_text(text: str) -> str:
    """A quoted Mermaid label that shows `text` exactly (on one line)."""
    flat = " ".join(text.split())
    return '"' + "".join(f"#{ord(c)};" if c in _MERMAID_SPECIAL else c for c in flat) + '"'


def as_mermaid(view: View) -> str:
    ids = {key: f"n{number}" for number, key in enumerate(view.nodes)}
    lines = ["flowchart TD"]
    for key, record in view.nodes.items():
        opening, closing = _SHAPES.get(record.get("node_kind") or record["kind"], ("[", "]"))
        lines.append(f"  {ids[key]}{opening}{mermaid_text(record['title'])}{closing}")
    for edge in view.edges:
        label = edge.get("label") if edge["kind"] == "answer" else (
            None if edge["kind"] in {"next", "starts_at"} else edge["kind"].replace("_", " "))
        arrow = "-.->" if edge["kind"] == "goto" else "-->"
        text = f"|{mermaid_text(label)}|" if label else ""
        lines.append(f"  {ids[edge['source']]} {arrow}{text} {ids[edge['target']]}")
    return "\n".join(lines)


@click.command("graph")
@click.argument("item_id", metavar="[ID]", required=False)
@click.option("--format", "output", type=click.Choice(["json", "dot", "mermaid"]), default="json",
              show_default=True, help="json for scripts (the default), dot for Graphviz, "
              "mermaid for a flowchart in a pull request or Markdown preview.")
@click.option("--json", "as_json_flag", is_flag=True, help="Same as --format json (the default).")
@click.option("--depth", type=click.IntRange(min=1), default=1, show_default=True,
              help="With an article id: how many links away to go. With a tree id: 1 is the "
                   "tree itself, 2 adds the trees its gotos lead to, and so on.")
@root_option
def command(item_id: str | None, output: str, as_json_flag: bool, depth: int,
            root: Path | None) -> None:
    """Print the knowledge graph, or the part of it around one article or tree.

    Without ID: every article, tree, tree step, tag, category and embedded file, and
    every link between them (each edge has a kind: links_to, related, explains,
    answer, next, goto, translation_of, tagged, in_category, ...).

    With an article id: its neighbourhood - the articles that link it and that it
    links, related articles, translations and the trees whose steps point at it -
    to --depth links away. With a tree id: its flow, step by step, with the answers
    on the arrows; `--format mermaid` gives a flowchart to paste into a pull request.

    JSON is the default output: {"nodes": [{id, kind, title, path, ...}],
    "edges": [{source, target, kind, label}]}; node ids are article:ID, tree:ID,
    node:TREE#STEP, tag:TAG, category:ID and file:PATH.

    \b
    Exit status: 0 printed, 1 no article or tree has that id,
                 2 the command was used wrongly.

    \b
    Examples:
      kb graph > graph.json
      kb graph --format dot | dot -Tsvg > kb.svg
      kb graph reset-forgotten-password --depth 2
      kb graph printer-not-printing --format mermaid
    """
    kb = open_kb(root)
    if item_id is None:
        view = whole_graph(kb)
    elif item_id in kb.trees:
        view = tree_flow(kb, item_id, depth)
    elif item_id in kb.articles:
        view = neighbourhood(kb, article_key(item_id), depth)
    else:
        hint = close_ids(item_id, [*kb.articles, *kb.trees])
        click.echo(f"kb graph: no article or tree has the id '{item_id}'.{hint}", err=True)
        raise SystemExit(1)
    if as_json_flag:
        output = "json"
    click.echo({"json": as_json, "dot": as_dot, "mermaid": as_mermaid}[output](view))
