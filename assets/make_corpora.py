"""Generate the synthetic built-in corpora: code.txt and quotes.txt.

    python assets/make_corpora.py

rewrites both files byte-identically: the generators use a seeded random.Random
(whose integer seeding, random() and choice() are stable across Python 3 versions)
and the standard library only. Each text exercises a kind of long-range memory a
learner can look for in the hidden units: bracket depth and indentation in code,
open/closed quotes in dialogue.
"""
from __future__ import annotations

import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
CODE_SEED = 1234
QUOTES_SEED = 5678
TARGET_CHARS = 30_000  # both texts stop at the first unit boundary past this

# --- code: a small C-like toy language with nested (), [], {} ----------------------------------------

_VARS = ("count", "total", "item", "left", "right", "node", "value", "index", "step", "size",
         "limit", "result", "buf", "token", "depth", "width", "score", "key", "row", "col")
_VERBS = ("load", "find", "sum", "scan", "merge", "split", "count", "check", "build", "draw", "push", "pop")
_NOUNS = ("items", "max", "rows", "tree", "list", "grid", "words", "path", "queue", "table", "edges", "bits")
_FIELDS = ("x", "y", "w", "h", "name", "next", "size")
_OPS = ("+", "-", "*", "/", "%")
_CMPS = ("<", ">", "<=", ">=", "==", "!=")
_COMMENTS = ("keep the smallest value", "walk the rows once", "stop early when full", "try the next slot",
             "this is the slow path", "grow the buffer", "skip empty cells", "merge from both ends")
INDENT = "    "


class _Code:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def func_name(self) -> str:
        return f"{self.rng.choice(_VERBS)}_{self.rng.choice(_NOUNS)}"

    def atom(self) -> str:
        r = self.rng.random()
        if r < 0.55:
            return self.rng.choice(_VARS)
        if r < 0.85:
            return str(self.rng.randint(0, 99))
        return f"{self.rng.choice(_VARS)}.{self.rng.choice(_FIELDS)}"

    def expr(self, depth: int) -> str:
        r = self.rng.random()
        if depth <= 0 or r < 0.35:
            return self.atom()
        if r < 0.50:
            return f"{self.rng.choice(_VARS)}[{self.expr(depth - 1)}]"
        if r < 0.70:
            return self.call(depth - 1)
        if r < 0.82:
            return f"({self.expr(depth - 1)} {self.rng.choice(_OPS)} {self.expr(depth - 1)})"
        if r < 0.93:
            items = ", ".join(self.expr(depth - 1) for _ in range(self.rng.randint(0, 3)))
            return f"[{items}]"
        fields = ", ".join(f"{self.rng.choice(_FIELDS)}: {self.expr(depth - 1)}"
                           for _ in range(self.rng.randint(1, 2)))
        return "{" + fields + "}"

    def call(self, depth: int) -> str:
        args = ", ".join(self.expr(depth) for _ in range(self.rng.randint(0, 3)))
        return f"{self.func_name()}({args})"

    def cond(self) -> str:
        c = f"{self.expr(1)} {self.rng.choice(_CMPS)} {self.expr(2)}"
        if self.rng.random() < 0.2:
            c = f"({c}) && ({self.expr(1)} {self.rng.choice(_CMPS)} {self.expr(1)})"
        return c

    def block(self, depth: int, level: int) -> list[str]:
        lines = [self.statement(depth, level) for _ in range(self.rng.randint(1, 4 if depth > 0 else 3))]
        return [ln for chunk in lines for ln in chunk]

    def statement(self, depth: int, level: int) -> list[str]:
        pad = INDENT * level
        r = self.rng.random()
        if depth > 0 and r < 0.22:
            out = [f"{pad}if ({self.cond()}) {{", *self.block(depth - 1, level + 1)]
            if self.rng.random() < 0.5:
                out += [f"{pad}}} else {{", *self.block(depth - 1, level + 1)]
            return out + [f"{pad}}}"]
        if depth > 0 and r < 0.32:
            return [f"{pad}while ({self.cond()}) {{", *self.block(depth - 1, level + 1), f"{pad}}}"]
        if depth > 0 and r < 0.42:
            var = self.rng.choice(("i", "j", "k"))
            head = f"for ({var} in range({self.expr(1)}, {self.expr(1)})) {{"
            return [f"{pad}{head}", *self.block(depth - 1, level + 1), f"{pad}}}"]
        if r < 0.50:
            return [f"{pad}// {self.rng.choice(_COMMENTS)}"]
        if r < 0.70:
            return [f"{pad}let {self.rng.choice(_VARS)} = {self.expr(3)};"]
        if r < 0.82:
            return [f"{pad}{self.rng.choice(_VARS)} = {self.expr(2)};"]
        if r < 0.92:
            return [f"{pad}{self.call(2)};"]
        return [f"{pad}return {self.expr(2)};"]

    def function(self) -> str:
        params = ", ".join(self.rng.sample(_VARS, self.rng.randint(0, 3)))
        body = self.block(3, 1)
        body.append(f"{INDENT}return {self.expr(2)};")
        return "\n".join([f"fn {self.func_name()}({params}) {{", *body, "}"]) + "\n\n"


def generate_code(seed: int = CODE_SEED, target_chars: int = TARGET_CHARS) -> str:
    """Toy-language functions until the text passes target_chars; brackets always balance."""
    gen = _Code(seed)
    parts: list[str] = []
    size = 0
    while size < target_chars:
        fn = gen.function()
        parts.append(fn)
        size += len(fn)
    return "".join(parts)


# --- quotes: short dialogue scenes, every paragraph closes the quotes it opens ------------------------

_NAMES = ("Mara", "Tomas", "Ines", "Oskar", "Lena", "Hugo", "Petra", "Juno")
_SAYS = ("said", "asked", "whispered", "called", "replied", "muttered")
_THINGS = ("lamp", "key", "boat", "letter", "map", "kettle", "ladder", "coat", "bell", "basket")
_PLACES = ("by the door", "under the stairs", "on the roof", "in the barn", "near the well",
           "behind the shed", "at the market", "on the table")
_ADJS = ("cold", "broken", "missing", "wet", "heavy", "new", "locked", "quiet")
_TIMES = ("dark", "noon", "the rain", "supper", "morning", "the tide turns")
_ACTIONS = ("lit the stove", "closed the shutters", "looked out at the rain", "sat down by the fire",
            "poured the tea", "wiped the table", "counted the coins", "pulled on a coat")


def _lower_first(s: str) -> str:
    """Lower-case the first letter, unless it is the pronoun I."""
    return s if s.startswith("I ") else s[:1].lower() + s[1:]


class _Quotes:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def pick(self, options: tuple[str, ...]) -> str:
        return self.rng.choice(options)

    def question(self) -> str:
        forms = (f"Where is the {self.pick(_THINGS)}?", f"Did you see the {self.pick(_THINGS)}?",
                 f"Why is the {self.pick(_THINGS)} {self.pick(_ADJS)}?", f"Who took my {self.pick(_THINGS)}?",
                 f"Can we go before {self.pick(_TIMES)}?")
        return self.pick(forms)

    def statement(self) -> str:
        forms = (f"The {self.pick(_THINGS)} is {self.pick(_PLACES)}.", f"I left the {self.pick(_THINGS)} {self.pick(_PLACES)}.",
                 f"We should go before {self.pick(_TIMES)}.", f"The {self.pick(_THINGS)} was {self.pick(_ADJS)} again.",
                 f"Nobody has touched the {self.pick(_THINGS)} since {self.pick(_TIMES)}.")
        return self.pick(forms)

    def clause(self) -> str:
        """A statement without its final period, to be followed by a comma inside the quote."""
        return self.statement()[:-1]

    def paragraph(self) -> str:
        who, other = self.rng.sample(_NAMES, 2)
        r = self.rng.random()
        if r < 0.22:
            return f'"{self.question()}" {self.pick(_SAYS)} {who}.'
        if r < 0.40:
            return f'{who} {self.pick(_SAYS)}, "{self.statement()}"'
        if r < 0.55:
            return f'"{self.clause()}," said {who}, "but {_lower_first(self.clause())}."'
        if r < 0.72:  # a quote that spans several short lines
            lines = [self.clause()] + [_lower_first(self.clause()) for _ in range(self.rng.randint(1, 2))]
            body = ",\n".join(lines) + ","
            return f'"{body}"\nsaid {who}.'
        if r < 0.85:
            return f'{who} {self.pick(_ACTIONS)}.\n"{self.question()}" {self.pick(_SAYS)} {other}.'
        return f"{who} {self.pick(_ACTIONS)}, and {other} {self.pick(_ACTIONS)}."


def generate_quotes(seed: int = QUOTES_SEED, target_chars: int = TARGET_CHARS) -> str:
    """Dialogue paragraphs separated by blank lines until the text passes target_chars."""
    gen = _Quotes(seed)
    parts: list[str] = []
    size = 0
    while size < target_chars:
        para = gen.paragraph() + "\n\n"
        parts.append(para)
        size += len(para)
    return "".join(parts)


def main() -> None:
    for name, text in (("code.txt", generate_code()), ("quotes.txt", generate_quotes())):
        path = HERE / name
        path.write_bytes(text.encode("utf-8"))
        print(f"wrote {path} ({len(text):,} chars, {len(set(text))} distinct)")


if __name__ == "__main__":
    main()
