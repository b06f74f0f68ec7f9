"""Whatever bytes a file holds, compiling and checking the KB gives diagnostics, never an exception."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kbengine.compiler import compile_kb
from kbengine.site.markdown import ArticleRenderer

# Pieces real and broken content is made of, so the fuzzer reaches past the first parse error.
YAML_BITS = ["title: T\n", "start: a\n", "nodes:\n", "  a:\n", "    ask: Q?\n", "    answers:\n",
             "      Yes: b\n", "      No: {next: c, set: {os: mac}, when: {os: [win]}}\n", "  b:\n",
             "    solved: ok\n", "    goto: other#x\n", "    escalate: {team: L2, priority: P9}\n",
             "    collect: [{name: tag, prompt: Tag, pattern: '[a-'}]\n", "&a [*a]\n", "- - -\n",
             "examples:\n", "  - {answers: [Yes], ends_at: b}\n", "\t", ": ", "'", '"', "{", "[", "\n"]
MARKDOWN_BITS = ["---\n", "title: A\n", "id: a\n", "audience: ITPro\n", "related: [x]\n", "# H\n",
                 "## S\n", "[[a]]", "[l](../x.md)", "![i](m.png)", "[!INCLUDE [x](i.md)]",
                 ":::image source=\"x.png\":::", "> [!NOTE]\n", "```\n", "<script>x</script>",
                 "[", "]", "(", "*", "_", "\n"]


NODE_IDS = st.sampled_from(["a", "b", "c", "missing", "1"])
SCALARS = st.one_of(st.text(max_size=12), st.integers(), st.booleans(), st.none(), NODE_IDS,
                    st.sampled_from(["P3", "P9", "other", "other#a", "t#b", "[a-", "^\\d{6}$"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)), max_leaves=8)
ANSWER = st.one_of(NODE_IDS, st.fixed_dictionaries(
    {"next": NODE_IDS}, optional={"set": st.dictionaries(st.sampled_from(["os", "x"]), SCALARS, max_size=2),
                                  "when": st.dictionaries(st.sampled_from(["os", "x"]), VALUES, max_size=2)}),
    VALUES)
KIND_VALUES = {
    "ask": SCALARS, "do": SCALARS, "solved": SCALARS, "goto": SCALARS,
    "escalate": st.one_of(SCALARS, st.fixed_dictionaries(
        {"team": SCALARS}, optional={"priority": st.sampled_from(["P1", "P3", "P9", "urgent"]) | SCALARS,
                                     "reason": SCALARS})),
}
COMMON = st.fixed_dictionaries({}, optional={
    "next": NODE_IDS, "answers": st.dictionaries(st.text(max_size=8), ANSWER, max_size=4),
    "collect": st.lists(st.fixed_dictionaries({"name": SCALARS, "prompt": SCALARS},
                                              optional={"pattern": SCALARS}), max_size=2),
    "article": SCALARS, "audience": SCALARS, "text": SCALARS, "extra": VALUES})


@st.composite
def node(draw: st.DrawFn) -> dict[str, object]:
    """Mostly one kind (so later stages run), sometimes none or two."""
    kinds = draw(st.lists(st.sampled_from(sorted(KIND_VALUES)), min_size=0, max_size=2, unique=True)
                 .filter(lambda k: len(k) == 1) | st.lists(st.sampled_from(sorted(KIND_VALUES)),
                                                         max_size=2, unique=True))
    return {**draw(COMMON), **{kind: draw(KIND_VALUES[kind]) for kind in kinds}}


NODE = node()
TREE = st.fixed_dictionaries({"title": SCALARS, "start": NODE_IDS,
                              "nodes": st.dictionaries(NODE_IDS, NODE, max_size=4)},
                             optional={"examples": st.lists(st.fixed_dictionaries(
                                 {"answers": st.lists(st.text(max_size=6), max_size=3)},
                                 optional={"ends_at": NODE_IDS, "outcome": SCALARS,
                                           "inputs": VALUES}), max_size=2),
                                 "lang": SCALARS, "audience": SCALARS, "symptoms": VALUES})


def trees() -> st.SearchStrategy[bytes]:
    """Well-formed YAML of tree-shaped data with wrong types, broken references and guards."""
    return TREE.map(lambda tree: yaml.safe_dump(tree, allow_unicode=True).encode("utf-8"))


def pieces(bits: list[str]) -> st.SearchStrategy[bytes]:
    text = st.lists(st.one_of(st.sampled_from(bits), st.text(max_size=8)), max_size=30).map("".join)
    return st.one_of(text.map(lambda t: t.encode("utf-8", "surrogatepass")), st.binary(max_size=200))


@pytest.mark.timeout(120)  # a hang (a loop the fuzzer found) fails, rather than filling memory
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree=st.one_of(trees(), pieces(YAML_BITS)), other=trees(), article=pieces(MARKDOWN_BITS),
       config=pieces(YAML_BITS))
def test_any_content_compiles_to_diagnostics(tmp_path: Path, tree: bytes, other: bytes,
                                             article: bytes, config: bytes) -> None:
    root = tmp_path / "kb"
    (root / "trees").mkdir(parents=True, exist_ok=True)
    (root / "articles" / "a").mkdir(parents=True, exist_ok=True)
    (root / "kb.yaml").write_bytes(config)
    (root / "trees" / "t.yaml").write_bytes(tree)
    (root / "trees" / "other.yaml").write_bytes(other)  # a goto target, or not
    (root / "articles" / "a" / "x.md").write_bytes(article)
    kb = compile_kb(root, use_cache=False)
    for diagnostic in kb.diagnostics:
        assert diagnostic.line >= 1 and diagnostic.col >= 1 and diagnostic.code.startswith("KB")


class _NoLinks:
    def wiki(self, target: str) -> None:
        return None

    def page(self, path: str) -> None:
        return None

    def file(self, path: str) -> None:
        return None


@settings(max_examples=300, deadline=None)
@given(body=pieces(MARKDOWN_BITS))
def test_any_article_body_renders_to_html_without_script(body: bytes) -> None:
    renderer = ArticleRenderer(Path("/nonexistent"), _NoLinks(), {"note": "Note"})
    html = renderer.render(body.decode("utf-8", "replace"), "articles/a/x.md").html
    assert "<script" not in html.lower()
