"""Read KB files: text decoding, front matter, articles, trees and kb.yaml.

A reader returns model objects *and* diagnostics; it never raises on bad content.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote

from kbengine.check.registry import diagnostic
from kbengine.check.suggest import closest
from kbengine.links import relative_target
from kbengine.model import (
    Answer,
    Article,
    Category,
    CollectField,
    Config,
    Diagnostic,
    Escalation,
    Link,
    Node,
    Support,
    Tree,
    TreeExample,
)
from kbengine.read import schema
from kbengine.read.scan import MAX_BRACKETS_PER_LINE, atx_heading, crowded_lines, prose_lines, scan_body
from kbengine.read.slugs import address_problem, language_problem, slugify, url_problem
from kbengine.read.yamlfile import YamlDocument, parse_yaml

_FENCE_LINE = re.compile(r"^---\s*$")
_FENCE_END = re.compile(r"^(---|\.\.\.)\s*$")
_ARTICLE_DEFAULTS = {"audience": "public", "status": "published"}


def contained(root: Path, rel: str) -> Path | None:
    """The file `rel` of the KB at `root`, or None when it (through a symlink, `..` or an absolute
    path) lies outside the KB: the one rule for every file kb reads or publishes."""
    path = root / rel
    try:
        resolved = path.resolve()
        base = root.resolve()
    except (OSError, RuntimeError, ValueError):  # a symlink loop, a NUL byte
        return None
    return resolved if resolved.is_relative_to(base) else None


# Lists and quotes nested deeper than this are never meant; the site shows such an article as text.
MAX_NESTING = 30
# a quote, a list item, a content tab (`=== "Tab"`) or an admonition (`!!! note`, `??? tip`)
_NESTING_MARKER = re.compile(r"[ \t]*(?:>|[-*+](?=[ \t]|$)|\d{1,9}[.)](?=[ \t]|$)"
                             r"|===[!+]?[ \t]|[!?]{3}\+?[ \t])")


def nesting_depth(body: str) -> tuple[int, int]:
    """(how deep lists, quotes, tabs and admonitions nest at most, the 0-based line where that depth
    is first reached), estimated from markers and indentation in one pass, without parsing."""
    items: list[int] = []  # indentation of the list items still open
    deepest, where = 0, 0
    for offset, line in enumerate(body.split("\n")):
        if not line.strip():
            continue
        text = line.expandtabs(4) if "\t" in line else line
        indent = len(text) - len(text.lstrip(" "))
        quotes = markers = 0
        position = 0
        while (marker := _NESTING_MARKER.match(text, position)) is not None:
            if marker.group().lstrip().startswith(">"):
                quotes += 1
            else:
                markers += 1
            position = marker.end()
        while items and items[-1] >= indent:
            items.pop()
        if markers:
            items.append(indent)
        depth = quotes + len(items) + max(markers - 1, 0)
        if depth > deepest:
            deepest, where = depth, offset
    return deepest, where


# Parser steps an article may take (see kbengine/site/markdown.py): per character, plus a floor.
WORK_PER_CHAR = 40
WORK_FLOOR = 200_000
_BRACKET = re.compile(r"[\[\]]")


def bracket_work(body: str, first_line: int) -> tuple[int, int]:
    """(what finding link labels costs the parser, the line of the costliest paragraph): from each
    `[` it scans ahead to the next `]` of the paragraph, or to its end when there is none."""
    total, costliest, where = 0, -1, first_line
    paragraph: list[tuple[int, str]] = []
    for number, line in [*prose_lines(body, first_line), (-1, "")]:
        if line.count("[") > MAX_BRACKETS_PER_LINE:
            line = ""  # a code block of its own (KB108): never scanned, and it ends a paragraph
        if line.strip() and (not paragraph or number == paragraph[-1][0] + 1):
            paragraph.append((number, line))
            continue
        text = "\n".join(part for _, part in paragraph)
        cost, close = 0, len(text)
        for bracket in reversed(list(_BRACKET.finditer(text)) if "[" in text else []):
            if bracket.group() == "]":
                close = bracket.start()
            else:
                cost += close - bracket.start()
        total += cost
        if paragraph and cost > costliest:
            costliest, where = cost, paragraph[0][0]
        paragraph = [(number, line)] if line.strip() else []
    return total, where


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def decode(data: bytes, rel: str) -> tuple[str | None, list[Diagnostic]]:
    """UTF-8 text of a file (a BOM is dropped), or a located diagnostic."""
    if not data.strip():
        return None, [diagnostic("KB102", rel, 1, 1, "the file is empty",
                                 "add content or delete the file")]
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as error:
        before = data[: error.start]
        line = before.count(b"\n") + 1
        col = len(before) - (before.rfind(b"\n") + 1) + 1
        byte = data[error.start]
        return None, [diagnostic("KB101", rel, line, col,
                                 f"the file is not UTF-8 text (byte 0x{byte:02x} cannot be read)",
                                 "save the file as UTF-8 in your editor")]


def split_front_matter(text: str) -> tuple[str | None, int, str, int]:
    """(front matter, its first line, body, the body's first line); front matter may be None."""
    lines = text.splitlines(keepends=True)
    if not lines or not _FENCE_LINE.match(lines[0]):
        return None, 0, text, 1
    for number, line in enumerate(lines[1:], start=1):
        if _FENCE_END.match(line):
            return "".join(lines[1:number]), 2, "".join(lines[number + 1:]), number + 2
    return None, 0, text, 1  # no closing fence: the '---' is a thematic break


def load_article(rel: str, data: bytes, default_lang: str = "en") -> tuple[Article | None, list[Diagnostic]]:
    """An article from a Markdown file with optional YAML front matter."""
    text, diagnostics = decode(data, rel)
    if text is None:
        return None, diagnostics
    front, front_line, body, body_line = split_front_matter(text)
    meta: dict[str, Any] = {}
    doc = YamlDocument({})
    if front is not None and front.strip():
        parsed, problems = parse_yaml(front, rel, line_offset=front_line - 1)
        diagnostics += problems
        if parsed is not None and isinstance(parsed.data, dict):
            doc, meta = parsed, parsed.data
        elif parsed is not None and parsed.data is not None:
            diagnostics.append(diagnostic("KB201", rel, front_line, 1,
                                          "the front matter must be key: value lines",
                                          "start each line with a field name and a colon"))
    if meta:
        diagnostics += _near_miss_keys(meta, doc, rel)
        for problem in schema.validate("article", doc, rel, code="KB203"):
            diagnostics.append(_with_default(problem))
        for name in schema.error_fields("article", meta):
            meta.pop(name, None)  # a foreign value falls back to the default

    body, heading_title = _take_title_heading(body)
    headings, links = scan_body(body, body_line)
    for number in crowded_lines(body, body_line):
        diagnostics.append(diagnostic(
            "KB108", rel, number, 1,
            f"this line has more than {MAX_BRACKETS_PER_LINE} '[' and is shown as plain text",
            "split the line, or put it in a code block"))
    diagnostics += _outside_includes(rel, links)
    work, work_line = bracket_work(body, body_line)
    if work > WORK_FLOOR + WORK_PER_CHAR * len(body):
        diagnostics.append(diagnostic(
            "KB110", rel, work_line, 1,
            "this article takes too much work to render; the site shows it as plain text",
            "look for long runs of '[' without ']', and split the paragraph or use a code block"))
    depth, offset = nesting_depth(body)
    if depth > MAX_NESTING:
        diagnostics.append(diagnostic(
            "KB109", rel, body_line + offset, 1,
            f"lists, quotes or other blocks are nested {depth} levels deep (more than {MAX_NESTING}); "
            "the site shows this article as plain text", "nest lists and quotes less deeply"))
    stem = PurePosixPath(rel).stem
    title = _text(meta.get("title")) or heading_title or stem.replace("-", " ").capitalize()
    parts = PurePosixPath(rel).parts
    folder_category = slugify(parts[1]) if len(parts) > 2 and parts[0] == "articles" else ""
    category = _text(meta.get("category")) or folder_category
    if "category" in meta:
        diagnostics += _address_check(rel, doc, ("category",), category, "category")
    known = set(schema.load_schema("article")["properties"])
    article = Article(
        id=_text(meta.get("id")) or slugify(stem) or "article",
        path=rel,
        title=title,
        body=body,
        body_line=body_line,
        summary=_text(meta.get("summary")) or _text(meta.get("description")),
        tags=[str(tag) for tag in meta.get("tags") or []],
        category=category,
        lang=_text(meta.get("lang")) or default_lang,
        audience=meta.get("audience") or "public",
        status=meta.get("status") or "published",
        owner=_text(meta.get("owner")),
        updated=_text(meta.get("updated")),
        related=list(meta.get("related") or []),
        translation_of=_text(meta.get("translation_of")) or None,
        headings=headings,
        links=links,
        extra={key: value for key, value in meta.items() if key not in known},
        content_hash=content_hash(data),
        explicit_id="id" in meta,
        locations=doc.values,
    )
    return article, diagnostics


def _near_miss_keys(meta: dict[str, Any], doc: YamlDocument, rel: str) -> list[Diagnostic]:
    """KB204 for a key kbengine does not read that looks like a misspelt one it does: other
    tools' keys are kept silently, but `categroy` is surely `category`."""
    known = sorted(schema.load_schema("article")["properties"])
    found = []
    for key in meta:
        guess = closest(str(key), known, cutoff=0.8) if key not in known else None
        if guess and guess not in meta:
            line, col = doc.locate((key,), key=True)
            found.append(diagnostic("KB204", rel, line, col,
                                    f"front-matter key '{key}' is not one kbengine reads; "
                                    f"did you mean '{guess}'?", f"rename it to {guess}:"))
    return found


def _outside_includes(rel: str, links: list[Link]) -> list[Diagnostic]:
    """KB509 for a DocFX include that names a file outside the KB (absolute, or too many `..`)."""
    found = []
    for link in links:
        if link.kind != "include":
            continue
        target = unquote(link.target.split("#", 1)[0]).replace("\\", "/")
        joined = relative_target(rel, target)
        if target.startswith("/") or re.match(r"^[A-Za-z]:", target) or joined.split("/")[0] == "..":
            found.append(diagnostic("KB509", rel, link.line, link.col,
                                    f"include '{link.target}' is outside the KB and is left out",
                                    "include a file inside the KB, by a path relative to this file"))
    return found


def _with_default(problem: Diagnostic) -> Diagnostic:
    field = problem.message.split("'")[1] if "'" in problem.message else ""
    default = _ARTICLE_DEFAULTS.get(field)
    suffix = f"; using '{default}'" if default else "; ignoring it"
    return replace(problem, message=problem.message + suffix)


def _address_check(rel: str, doc: YamlDocument, path: tuple[str, ...], value: str, what: str,
                   *, key: bool = False) -> list[Diagnostic]:
    """KB205 when a value that becomes part of the site's addresses could leave its folder."""
    problem = address_problem(value)
    if problem is None:
        return []
    line, col = doc.locate(path, key=key)
    return [diagnostic("KB205", rel, line, col,
                       f"{what} {value!r} cannot be part of a web address: {problem}",
                       "use letters, digits and dashes, e.g. 'printer-offline'")]


def _take_title_heading(body: str) -> tuple[str, str]:
    """Drop a leading `# Title` line (it becomes the page title); the line count stays the same."""
    lines = body.split("\n")
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        heading = atx_heading(line)
        if heading and heading[0] == 1:
            lines[index] = ""
            return "\n".join(lines), heading[1]
        break
    return body, ""


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def load_tree(rel: str, data: bytes, default_lang: str = "en") -> tuple[Tree | None, list[Diagnostic]]:
    """A troubleshooting tree from a YAML file."""
    text, diagnostics = decode(data, rel)
    if text is None:
        return None, diagnostics
    doc, problems = parse_yaml(text, rel)
    diagnostics += problems
    if doc is None:
        return None, diagnostics
    if not isinstance(doc.data, dict):
        diagnostics.append(diagnostic("KB201", rel, 1, 1,
                                      "a tree file must be a mapping with title, start and nodes",
                                      "see the tree format in docs/formats.md"))
        return None, diagnostics
    _node_ids_as_text(doc.data)
    diagnostics += schema.validate("tree", doc, rel)
    meta = doc.data
    if "category" in meta:
        diagnostics += _address_check(rel, doc, ("category",), _text(meta["category"]), "category")
    nodes: dict[str, Node] = {}
    unreadable: list[str] = []
    raw_nodes = meta.get("nodes")
    if isinstance(raw_nodes, dict):
        for node_id, raw in raw_nodes.items():
            diagnostics += _address_check(rel, doc, ("nodes", node_id), node_id, "node id", key=True)
            node, node_problems = _load_node(rel, doc, node_id, raw)
            diagnostics += node_problems
            if node is not None:
                nodes[node_id] = node
            else:
                unreadable.append(node_id)
    tree = Tree(
        id=_text(meta.get("id")) or slugify(PurePosixPath(rel).stem) or "tree",
        path=rel,
        title=_text(meta.get("title")) or PurePosixPath(rel).stem,
        start=_text(meta.get("start")),
        nodes=nodes,
        summary=_text(meta.get("summary")),
        symptoms=[str(s) for s in _list(meta.get("symptoms"))],
        tags=[str(t) for t in _list(meta.get("tags"))],
        category=_text(meta.get("category")),
        lang=_text(meta.get("lang")) or default_lang,
        audience=str(meta["audience"]) if meta.get("audience") in ("public", "internal") else "public",
        status=str(meta["status"]) if meta.get("status") in ("draft", "published", "archived")
        else "published",
        owner=_text(meta.get("owner")),
        updated=_text(meta.get("updated")),
        translation_of=_text(meta.get("translation_of")) or None,
        content_hash=content_hash(data),
        examples=_examples(doc),
        locations=doc.values,
        unreadable=unreadable,
    )
    return tree, diagnostics


def _examples(doc: YamlDocument) -> list[TreeExample]:
    """The tree's examples that are well formed (the schema reports the others)."""
    found = []
    for index, raw in enumerate(_list(doc.data.get("examples"))):
        if not isinstance(raw, dict) or not isinstance(raw.get("answers"), list):
            continue
        inputs: dict[str, Any] = raw["inputs"] if isinstance(raw.get("inputs"), dict) else {}
        line, col = doc.locate(("examples", index))
        found.append(TreeExample(
            answers=[str(a) for a in raw["answers"]],
            inputs={str(k): str(v) for k, v in inputs.items()},
            ends_at=_text(raw.get("ends_at")) or None,
            outcome=raw.get("outcome") if raw.get("outcome") in ("solved", "escalated", "in_progress")
            else None,
            line=line, col=col))
    return found


def _node_ids_as_text(data: dict[str, Any]) -> None:
    """Node ids are mapping keys, so always text; `start: 1` or `next: 2` must name them too."""

    def text(value: Any) -> Any:
        return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value

    if "start" in data:
        data["start"] = text(data["start"])
    nodes = data.get("nodes")
    for node in nodes.values() if isinstance(nodes, dict) else ():
        if not isinstance(node, dict):
            continue
        for key in ("next", "goto"):
            if key in node:
                node[key] = text(node[key])
        answers = node.get("answers")
        if not isinstance(answers, dict):
            continue
        for label, target in answers.items():
            if isinstance(target, dict) and "next" in target:
                target["next"] = text(target["next"])
            else:
                answers[label] = text(target)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _load_node(rel: str, doc: YamlDocument, node_id: str, raw: Any) -> tuple[Node | None, list[Diagnostic]]:
    line, col = doc.locate(("nodes", node_id), key=True)
    if not isinstance(raw, dict):
        return None, []  # the schema already reported the wrong type
    kinds = [kind for kind in ("ask", "do", "solved", "escalate", "goto") if kind in raw]
    if not kinds:
        return None, [diagnostic("KB401", rel, line, col, f"node '{node_id}' has no kind",
                                 "give it one of ask, do, solved, escalate or goto")]
    if len(kinds) > 1:
        return None, [diagnostic("KB402", rel, line, col,
                                 f"node '{node_id}' has more than one kind: {', '.join(kinds)}",
                                 "split it into two nodes, the first leading to the second")]
    kind = kinds[0]
    problems: list[Diagnostic] = []
    node = Node(id=node_id, kind=kind, line=line, col=col,  # type: ignore[arg-type]
                text=_text(raw.get("text")), article=_text(raw.get("article")) or None,
                image=_text(raw.get("image")) or None,
                audience="internal" if raw.get("audience") == "internal" else "public")
    value = raw[kind]
    if kind == "escalate":
        if isinstance(value, dict):
            node.escalation = Escalation(_text(value.get("team")), _text(value.get("priority")),
                                         _text(value.get("reason")))
        else:
            node.escalation = Escalation(_text(value))
    elif kind == "goto":
        node.goto = _text(value)
    else:
        node.prompt = _text(value)
    for item in _list(raw.get("collect")):
        if isinstance(item, dict) and item.get("name") and item.get("prompt"):
            node.collect.append(CollectField(str(item["name"]), str(item["prompt"]),
                                             _text(item.get("pattern")) or None,
                                             _text(item.get("hint")) or None))
    answers = raw.get("answers")
    if kind == "ask":
        if isinstance(answers, dict):
            for label, target in answers.items():
                a_line, a_col = doc.locate(("nodes", node_id, "answers", label), key=True)
                if isinstance(target, str):
                    node.answers.append(Answer(label, target, line=a_line, col=a_col))
                elif isinstance(target, dict) and isinstance(target.get("next"), str):
                    node.answers.append(Answer(
                        label, target["next"],
                        set=target["set"] if isinstance(target.get("set"), dict) else {},
                        when=target["when"] if isinstance(target.get("when"), dict) else {},
                        line=a_line, col=a_col))
        if not node.answers and not (isinstance(answers, dict) and answers):
            problems.append(diagnostic("KB408", rel, line, col, f"question '{node_id}' has no answers",
                                       "add answers: a label and the id of the node it leads to"))
    elif answers is not None:
        a_line, a_col = doc.locate(("nodes", node_id, "answers"), key=True)
        problems.append(diagnostic("KB409", rel, a_line, a_col,
                                   f"only a question (ask) has answers; '{node_id}' is a {kind} node",
                                   "turn the node into an ask, or remove the answers"))
    if kind == "do":
        node.next = _text(raw.get("next")) or None
        if node.next is None:
            problems.append(diagnostic("KB410", rel, line, col, f"action '{node_id}' has no next step",
                                       "add next: with the id of the node that follows"))
    elif "next" in raw:
        n_line, n_col = doc.locate(("nodes", node_id, "next"), key=True)
        problems.append(diagnostic("KB409", rel, n_line, n_col,
                                   f"only an action (do) has next; '{node_id}' is a {kind} node",
                                   "a question leads on through its answers"))
    if node.collect and kind != "escalate":
        c_line, c_col = doc.locate(("nodes", node_id, "collect"), key=True)
        problems.append(diagnostic("KB411", rel, c_line, c_col,
                                   f"collect on '{node_id}' is only asked at an escalation",
                                   "move collect to the escalate node"))
    return node, problems


def load_config(rel: str, data: bytes) -> tuple[Config, list[Diagnostic]]:
    """Settings from kb.yaml; missing or wrong values fall back to defaults with a diagnostic."""
    config = Config()
    text, diagnostics = decode(data, rel)
    if text is None:
        return config, diagnostics
    doc, problems = parse_yaml(text, rel)
    diagnostics += problems
    if doc is None or doc.data is None:
        return config, diagnostics
    if not isinstance(doc.data, dict):
        diagnostics.append(diagnostic("KB701", rel, 1, 1, "kb.yaml must be key: value lines",
                                      "see docs/formats.md for the settings"))
        return config, diagnostics
    diagnostics += schema.validate("kb", doc, rel, code="KB701")
    bad = schema.error_fields("kb", doc.data)
    raw = {key: value for key, value in doc.data.items() if key not in bad}
    config.title = _text(raw.get("title")) or config.title
    config.base_url = _text(raw.get("base_url")) or "/"
    config.languages = [str(lang) for lang in raw.get("languages") or ["en"]]
    config.default_language = _text(raw.get("default_language")) or config.languages[0]
    if config.default_language not in config.languages:
        config.languages.insert(0, config.default_language)
    config.translations = raw.get("translations") or {}
    config.sessions = _text(raw.get("sessions")) or None
    config.sessions_retention = _text(raw.get("sessions_retention")) or None
    config.coverage = {str(k): float(v) for k, v in (raw.get("coverage") or {}).items()}
    config.report = raw.get("report") or {}
    config.search = raw.get("search") or {}
    config.server_url = _text(raw.get("server_url")) or None
    support = raw.get("support") or {}
    config.support = Support(
        **{key: _text(value) for key, value in support.items() if not isinstance(value, dict)},
        translations={lang: value for lang, value in support.items() if isinstance(value, dict)})
    for order, (cat_id, cat) in enumerate((raw.get("categories") or {}).items()):
        cat = cat or {}
        config.categories[cat_id] = Category(
            id=cat_id,
            title=_text(cat.get("title")) or cat_id.replace("-", " ").capitalize(),
            description=_text(cat.get("description")),
            order=cat.get("order", order + 1),
            translations={lang: value for lang, value in cat.items() if isinstance(value, dict)},
        )
    diagnostics += _config_address_checks(rel, doc, raw)
    known = set(schema.load_schema("kb")["properties"])
    config.extra = {key: value for key, value in raw.items() if key not in known}
    return config, diagnostics


_URL_KEYS = ("url", "href", "link")  # a key named so, or ending in _url, holds a link


def _config_address_checks(rel: str, doc: YamlDocument, raw: dict[str, Any]) -> list[Diagnostic]:
    """Language codes and category ids become folders of the site, URLs become links on every page:
    each is checked where kb.yaml writes it."""
    found: list[Diagnostic] = []
    languages = raw.get("languages")
    named: list[tuple[tuple[str | int, ...], str]] = [
        (("languages", index), str(lang)) for index, lang in enumerate(_list(languages))]
    if "default_language" in raw:
        named.append((("default_language",), _text(raw["default_language"])))
    for path, lang in named:
        problem = language_problem(lang)
        if problem:
            line, col = doc.locate(path)
            found.append(diagnostic("KB205", rel, line, col,
                                    f"language {lang!r} cannot be part of a web address: {problem}",
                                    "write the language code, e.g. en or nl"))
    for cat_id in raw.get("categories") or {}:
        found += _address_check(rel, doc, ("categories", cat_id), str(cat_id), "category", key=True)
    for path, url in _urls(raw, ()):
        problem = url_problem(url)
        if path == ("base_url",) and not problem and url.lower().startswith("mailto:"):
            problem = "base_url is an http(s) address or a path"
        if problem:
            line, col = doc.locate(path)
            found.append(diagnostic("KB702", rel, line, col, f"{'.'.join(map(str, path))}: {problem}",
                                    "write a web address (https://...) or an e-mail link (mailto:...)"))
    return found


def _urls(value: Any, path: tuple[str | int, ...]) -> list[tuple[tuple[str | int, ...], str]]:
    """(path, text) of every value in kb.yaml that is a link: under a URL-like key or in `links`."""
    found: list[tuple[tuple[str | int, ...], str]] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _urls(inner, (*path, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += _urls(inner, (*path, index))
    elif isinstance(value, str) and path:
        last = str(path[-1])
        listed = len(path) > 1 and path[-2] == "links"  # links: [url, ...] or links: {name: url}
        if last in _URL_KEYS or last.endswith("_url") or listed:
            found.append((path, value))
    return found
