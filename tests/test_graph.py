"""The knowledge graph: the questions other stages ask of it, and the rules it checks."""

from __future__ import annotations

from kbengine.compiler import compile_kb
from kbengine.kb import KnowledgeBase
from tests.conftest import WriteKB

SOLVED_TREE = "title: {title}\nstart: a\nnodes:\n  a:\n    solved: Done\n"


def found(kb: KnowledgeBase) -> list[tuple[str, int, str]]:
    return [(d.path, d.line, d.code) for d in kb.diagnostics]


def compile_files(write_kb: WriteKB, files: dict[str, str]) -> KnowledgeBase:
    return compile_kb(write_kb(files), use_cache=False)


def linked_kb(write_kb: WriteKB) -> KnowledgeBase:
    return compile_files(write_kb, {
        "articles/accounts/reset-password.md": """
            ---
            tags: [password, account]
            related: [account-locked]
            ---
            # Reset your password
            If you are locked out, see [[account-locked]] first.
            """,
        "articles/accounts/account-locked.md": """
            ---
            tags: [account]
            ---
            # Account locked
            Then [reset it](reset-password.md).
            ![Lock screen](media/lock.png)
            """,
        "articles/accounts/media/lock.png": "png",
        "articles/accounts/mfa.md": "---\ntags: [password, account]\n---\n# MFA\n",
        "articles/accounts/wachtwoord.md": "---\nlang: nl\ntranslation_of: reset-password\n"
                                           "tags: [password]\n---\n# Wachtwoord\n",
        "trees/locked-out.yaml": """
            title: Locked out
            start: a
            nodes:
              a:
                do: Unlock the account.
                article: account-locked
                next: b
              b:
                goto: password
            """,
        "trees/password.yaml": """
            title: Password
            start: a
            nodes:
              a:
                ask: Can you sign in?
                article: reset-password
                answers: {Yes: done, No: done}
              done:
                solved: Signed in.
            """,
    })


def test_backlinks_are_articles_that_link_here(write_kb: WriteKB) -> None:
    kb = linked_kb(write_kb)
    assert kb.graph.backlinks("account-locked") == ["reset-password"]
    assert kb.graph.backlinks("reset-password") == ["account-locked"]
    assert kb.graph.backlinks("mfa") == []


def test_used_in_trees_lists_trees_with_a_step_on_the_article(write_kb: WriteKB) -> None:
    kb = linked_kb(write_kb)
    assert kb.graph.used_in_trees("account-locked") == ["locked-out"]
    assert kb.graph.used_in_trees("mfa") == []


def test_related_puts_explicit_first_then_links_then_shared_tags_same_language(write_kb: WriteKB) -> None:
    kb = linked_kb(write_kb)
    assert kb.graph.related("reset-password") == ["account-locked", "mfa"]
    assert kb.graph.related("nope") == []


def test_related_stops_at_its_limit_keeping_the_best_first(write_kb: WriteKB) -> None:
    many = {f"articles/a{i}.md": f"---\ntags: [vpn]\n---\n# A{i}\n" for i in range(8)}
    kb = compile_kb(write_kb({**many, "articles/hub.md": "---\nrelated: [a7]\ntags: [vpn]\n---\n# Hub\n"}))
    assert len(kb.graph.related("hub")) == 5 and kb.graph.related("hub")[0] == "a7"
    assert kb.graph.related("hub", limit=2) == ["a7", "a0"]


def test_translations_group_every_language(write_kb: WriteKB) -> None:
    kb = linked_kb(write_kb)
    expected = {"en": "article:reset-password", "nl": "article:wachtwoord"}
    assert kb.graph.translations("article:wachtwoord") == expected
    assert kb.graph.translations("article:reset-password") == expected


def test_dependents_of_a_file(write_kb: WriteKB) -> None:
    kb = linked_kb(write_kb)
    assert kb.graph.dependents("articles/accounts/account-locked.md") == {
        "articles/accounts/account-locked.md", "articles/accounts/reset-password.md",
        "trees/locked-out.yaml"}
    assert kb.graph.dependents("articles/accounts/media/lock.png") == {
        "articles/accounts/media/lock.png", "articles/accounts/account-locked.md"}
    assert kb.graph.dependents("trees/password.yaml") >= {"trees/locked-out.yaml"}


def test_linked_kb_is_clean(write_kb: WriteKB) -> None:
    assert found(linked_kb(write_kb)) == []


def test_broken_links_images_and_includes_are_warnings_at_their_lines(write_kb: WriteKB) -> None:
    kb = compile_files(write_kb, {"articles/a.md": """
        # A
        [gone](gone.md) [[nothing]] ![pic](img/none.png)
        [!INCLUDE [x](../includes/none.md)]
        [web](https://example.org/x.md) [top](#a) [site](/help/x.md) [self](a.md)
        """})
    assert [(d.line, d.col, d.code, d.severity) for d in kb.diagnostics] == [
        (2, 8, "KB501", "warning"), (2, 17, "KB502", "warning"), (2, 36, "KB503", "warning"),
        (3, 15, "KB505", "warning")]


def test_docfx_backslash_and_wrong_case_links_resolve_with_a_warning(write_kb: WriteKB) -> None:
    kb = compile_files(write_kb, {
        "articles/accounts/client.md": "# C\n[a](..\\printing\\hybrid.md) [b](../Printing/Hybrid.md)\n",
        "articles/printing/hybrid.md": "# H\n",
    })
    assert [(d.line, d.col, d.code) for d in kb.diagnostics] == [(2, 5, "KB504"), (2, 32, "KB504")]
    assert [link.article_id for link in kb.articles["client"].links] == ["hybrid", "hybrid"]
    assert kb.graph.backlinks("hybrid") == ["client"]


def test_public_pages_and_steps_must_not_link_hidden_articles(write_kb: WriteKB) -> None:
    kb = compile_files(write_kb, {
        "articles/public.md": "---\nrelated: [draft]\n---\n# P\nSee [[internal]] and [old](archived.md).\n",
        "articles/internal.md": "---\naudience: internal\n---\n# I\n[[public]]\n",
        "articles/draft.md": "---\nstatus: draft\n---\n# D\n",
        "articles/archived.md": "---\nstatus: archived\n---\n# A\n",
        "trees/t.yaml": """
            title: T
            start: a
            nodes:
              a:
                do: Step
                article: internal
                next: b
              b:
                solved: Done
                article: internal
                audience: internal
            """,
    })
    assert found(kb) == [("articles/public.md", 2, "KB507"), ("articles/public.md", 5, "KB507"),
                         ("articles/public.md", 5, "KB507"), ("trees/t.yaml", 6, "KB414")]
    messages = " ".join(d.message for d in kb.diagnostics)
    assert "draft" in messages and "internal" in messages and "archived" in messages


def test_unknown_related_translation_and_category_are_warnings(write_kb: WriteKB) -> None:
    kb = compile_files(write_kb, {
        "articles/a.md": "---\nrelated: [b]\ntranslation_of: c\ncategory: nowhere\n---\n# A\n",
        "articles/d.md": "---\ntranslation_of: e\n---\n# D\n",
        "articles/e.md": "# E\n",
    })
    assert found(kb) == [("articles/a.md", 2, "KB506"), ("articles/a.md", 3, "KB601"),
                         ("articles/a.md", 4, "KB508"), ("articles/d.md", 2, "KB602")]
    assert all(d.severity == "warning" for d in kb.diagnostics)


def test_tree_references_to_missing_nodes_articles_and_trees(write_kb: WriteKB) -> None:
    kb = compile_files(write_kb, {"trees/t.yaml": """
        title: T
        start: first
        nodes:
          a:
            ask: Q
            article: no-such-article
            answers: {Yes: nowhere, No: b}
          b:
            do: D
            next: gone
          c:
            goto: no-tree
          d:
            goto: other#no-node
        """, "trees/other.yaml": SOLVED_TREE.format(title="Other")})
    assert sorted((d.line, d.code, d.severity) for d in kb.diagnostics if d.code != "KB407") == [
        (2, "KB403", "error"), (6, "KB413", "warning"), (7, "KB404", "error"), (10, "KB404", "error"),
        (12, "KB405", "error"), (14, "KB405", "error")]


def test_unreachable_node_is_a_warning_and_a_loop_with_no_exit_an_error(write_kb: WriteKB) -> None:
    kb = compile_files(write_kb, {"trees/t.yaml": """
        title: T
        start: a
        nodes:
          a:
            ask: Restarted?
            answers: {Yes: done, No: b}
          b:
            ask: Tried again?
            answers: {Yes: c, No: c}
          c:
            do: Restart again
            next: b
          done:
            solved: Fine
          spare:
            solved: Never shown
        """})
    assert [(d.line, d.code, d.severity) for d in kb.diagnostics] == [
        (7, "KB407", "error"), (15, "KB406", "warning")]


def test_a_loop_with_no_exit_is_reported_once_naming_its_steps(write_kb: WriteKB) -> None:
    kb = compile_files(write_kb, {"trees/t.yaml": """
        title: T
        start: a
        nodes:
          a:
            ask: Restarted?
            answers: {Yes: done, No: b}
          b:
            ask: Tried again?
            answers: {Yes: c, No: d}
          c: {do: Restart again, next: d}
          d: {do: Wait a minute, next: b}
          done: {solved: Fine}
        """})
    [loop] = [d for d in kb.diagnostics if d.code == "KB407"]
    assert (loop.line, loop.message) == (
        7, "no solved or escalate end can be reached from the loop b, c, d")


def test_goto_cycle_between_trees_is_an_error_even_with_exits(write_kb: WriteKB) -> None:
    kb = compile_files(write_kb, {
        "trees/one.yaml": "title: One\nstart: a\nnodes:\n  a: {ask: Q, answers: {Y: b, N: c}}\n"
                          "  b: {goto: two}\n  c: {solved: S}\n",
        "trees/two.yaml": "title: Two\nstart: a\nnodes:\n  a: {ask: Q, answers: {Y: b, N: c}}\n"
                          "  b: {goto: one}\n  c: {solved: S}\n",
    })
    assert found(kb) == [("trees/one.yaml", 5, "KB412"), ("trees/two.yaml", 5, "KB412")]
    assert "one -> two" in kb.diagnostics[0].message


def test_goto_into_another_tree_that_ends_is_fine(write_kb: WriteKB) -> None:
    kb = compile_files(write_kb, {
        "trees/one.yaml": "title: One\nstart: a\nnodes:\n  a: {goto: two#b}\n",
        "trees/two.yaml": "title: Two\nstart: a\nnodes:\n  a: {do: D, next: b}\n  b: {solved: S}\n",
    })
    assert found(kb) == []


def test_invalid_collect_pattern_is_an_error(write_kb: WriteKB) -> None:
    kb = compile_files(write_kb, {"trees/t.yaml": """
        title: T
        start: a
        nodes:
          a:
            escalate: L2
            collect:
              - {name: tag, prompt: Tag, pattern: '[A-Z'}
        """})
    assert [(d.line, d.code) for d in kb.diagnostics] == [(7, "KB415")]


def test_graph_holds_typed_edges_for_every_kind_of_thing(bundled_kb: KnowledgeBase) -> None:
    kinds = {kind for _, _, kind in bundled_kb.graph.graph.edges(data="kind")}
    assert {"has_node", "starts_at", "answer", "next", "explains", "tagged", "in_category",
            "translation_of"} <= kinds
    node_kinds = {kind for _, kind in bundled_kb.graph.graph.nodes(data="kind")}
    assert {"article", "tree", "node", "category"} <= node_kinds


def test_bundled_articles_used_in_trees_are_known_to_the_graph(bundled_kb: KnowledgeBase) -> None:
    explained = {node.article for tree in bundled_kb.trees.values() for node in tree.nodes.values()
                 if node.article in bundled_kb.articles}
    assert explained
    for article_id in explained:
        assert bundled_kb.graph.used_in_trees(article_id), article_id

