"""Built-in corpora: each loads, is trainable, and the generated ones are reproducible."""
from __future__ import annotations

import pytest

from assets import make_corpora
from assets.corpora import CORPORA, UnknownCorpusError, read_corpus

SEQ_LENGTH = 25


def test_registry_has_the_four_built_in_corpora():
    assert list(CORPORA) == ["hello world", "prose", "code (brackets)", "dialogue (quotes)"]
    for entry in CORPORA.values():
        assert entry["file"].endswith(".txt")
        assert entry["description"].endswith((".", "?", "!")) and len(entry["description"]) < 140


@pytest.mark.parametrize("name", list(CORPORA))
def test_corpus_is_trainable_text(name):
    text = read_corpus(name)
    assert text.strip()
    assert 2 <= len(set(text)) <= 200
    assert len(text) >= 2 * SEQ_LENGTH
    assert "\r" not in text and "\ufeff" not in text
    assert all(ch.isprintable() or ch == "\n" for ch in text)


def test_corpus_sizes():
    assert read_corpus("hello world") == "hello world\n" * 8
    assert 8_000 <= len(read_corpus("prose").encode()) <= 15_000
    for name in ("code (brackets)", "dialogue (quotes)"):
        assert 20_000 <= len(read_corpus(name).encode()) <= 40_000


def test_unknown_corpus_is_a_value_error_that_lists_choices():
    with pytest.raises(UnknownCorpusError, match="hello world"):
        read_corpus("shakespeare")
    assert issubclass(UnknownCorpusError, ValueError)


def test_generators_are_deterministic_and_match_the_files():
    assert make_corpora.generate_code() == make_corpora.generate_code() == read_corpus("code (brackets)")
    assert make_corpora.generate_quotes() == make_corpora.generate_quotes() == read_corpus("dialogue (quotes)")
    assert make_corpora.generate_code(seed=1) != make_corpora.generate_code(seed=2)


def test_code_brackets_are_balanced_and_nested():
    text = read_corpus("code (brackets)")
    pairs = {")": "(", "]": "[", "}": "{"}
    stack: list[str] = []
    deepest = 0
    for i, ch in enumerate(text):
        if ch in "([{":
            stack.append(ch)
            deepest = max(deepest, len(stack))
        elif ch in pairs:
            assert stack and stack[-1] == pairs[ch], f"unmatched {ch!r} at offset {i}"
            stack.pop()
    assert not stack
    assert deepest >= 5
    assert all(text.count(c) >= 100 for c in "()[]{}")
    assert "\n        " in text  # at least two levels of indentation


def test_code_indentation_follows_braces():
    depth = 0
    for line in read_corpus("code (brackets)").splitlines():
        if not line:
            continue
        stripped = line.lstrip(" ")
        closes_first = stripped.startswith("}")
        assert len(line) - len(stripped) == 4 * (depth - closes_first), line
        depth += line.count("{") - line.count("}")
    assert depth == 0


def test_quotes_close_within_each_paragraph():
    text = read_corpus("dialogue (quotes)")
    paragraphs = text.split("\n\n")
    assert paragraphs[-1] == ""  # the text ends with a blank line
    paragraphs = paragraphs[:-1]
    assert len(paragraphs) > 200
    assert all(p.count('"') % 2 == 0 for p in paragraphs)
    multi_line = [p for p in paragraphs if any(line.count('"') % 2 for line in p.split("\n"))]
    assert multi_line  # some quotes open on one line and close on another
    assert sum(p.count('"') for p in paragraphs) >= 400
