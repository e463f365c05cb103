"""Turning bytes into training text, and text into integer ids.

`load_text` is the single door through which any user-supplied file enters: it
decodes, normalizes line endings and refuses what is clearly not text, each time
with a message that says what was wrong and what to do about it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import limits


class TextError(ValueError):
    """A text that cannot be trained on; the message is meant for a person."""


# File signatures of formats people are likely to upload by mistake.
_MAGIC = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"PK\x03\x04": "a ZIP archive (or a .docx/.xlsx/.npz, which are ZIP files)",
    b"%PDF": "a PDF document",
    b"\x1f\x8b": "a gzip archive",
    b"\x93NUMPY": "a NumPy array file",
    b"\x7fELF": "a program (ELF binary)",
}

_READABLE = {" ": "␣ space", "\n": "⏎ newline", "\t": "⇥ tab", "\r": "␍ return"}


def char_label(ch: str) -> str:
    """A label a person can read for one vocabulary character ('␣ space', 'a', 'U+0007')."""
    if ch in _READABLE:
        return _READABLE[ch]
    if not ch.isprintable():
        return f"U+{ord(ch):04X}"
    return ch


def load_text(raw: bytes, *, max_chars: int = limits.MAX_TEXT_CHARS) -> str:
    """Decode an uploaded file into training text.

    UTF-8 only (a leading BOM is dropped), CRLF and lone CR become LF. Raises
    TextError for empty, binary, undecodable or oversized input.
    """
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        raise TextError(f"Expected the file's bytes, got {type(raw).__name__}.")
    raw = bytes(raw)
    if len(raw) > 4 * max_chars + 3:  # UTF-8 spends at most 4 bytes per character: too long before decoding
        raise TextError(
            f"The file is {len(raw) / 1e6:,.1f} MB; the limit is {max_chars:,} characters. Upload a shorter excerpt."
        )
    if not raw.strip():
        raise TextError("The file is empty (or only whitespace). Choose a file with some text in it.")
    for magic, what in _MAGIC.items():
        if raw.startswith(magic):
            raise TextError(f"This looks like {what}, not text. Upload a plain .txt or .md file.")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise TextError(
            "The file is UTF-16 encoded. Save it as UTF-8 (most editors offer this under 'Save as') and upload again."
        )
    if b"\x00" in raw:
        if _looks_utf16(raw):
            raise TextError(
                "The file looks UTF-16 encoded (without a byte-order mark). Save it as UTF-8 (most editors offer "
                "this under 'Save as') and upload again."
            )
        raise TextError("The file contains NUL bytes, so it is binary data, not text. Upload a plain .txt or .md file.")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        if raw[err.start] == 0xED and err.start + 1 < len(raw) and 0xA0 <= raw[err.start + 1] <= 0xBF:
            raise TextError(
                f"The file encodes a lone surrogate (U+D800–U+DFFF) at offset {err.start}, which UTF-8 does not allow "
                "(it was probably written as CESU-8 or by a program with a bug). Re-save it as UTF-8 and upload again."
            ) from None
        raise TextError(
            f"The file is not valid UTF-8 (byte 0x{raw[err.start]:02x} at offset {err.start}). "
            "It may be Latin-1 or Windows-1252: re-save it as UTF-8 and upload again."
        ) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # C0/C1 control codes other than tab and newline; format characters (ZWJ, soft hyphen) and
    # unusual spaces (NBSP) are legitimate text and do not count.
    head = _codepoints(text[:100_000])
    control = int(np.count_nonzero(((head < 32) & (head != 9) & (head != 10)) | ((head >= 127) & (head < 160))))
    if control > 0.1 * len(head):
        raise TextError("More than a tenth of the file is control characters, so it is not text. Upload a plain .txt or .md file.")
    if len(text) > max_chars:
        raise TextError(
            f"The text has {len(text):,} characters; the limit is {max_chars:,}. Upload a shorter excerpt."
        )
    if not text.strip():
        raise TextError("The file holds only whitespace. Choose a file with some text in it.")
    return text


@dataclass(frozen=True)
class Vocab:
    """The sorted set of characters of a text, with vectorized encode/decode."""

    chars: tuple[str, ...]
    _codepoints: np.ndarray = field(repr=False, compare=False)  # (V,) sorted int64 code points

    @classmethod
    def from_text(cls, text: str, *, max_size: int = limits.MAX_VOCAB) -> "Vocab":
        codes = _distinct(_codepoints(text))
        _refuse_surrogates(codes, "The text")
        if len(codes) > max_size:
            raise TextError(
                f"The text uses {len(codes):,} distinct characters; the limit is {max_size}. "
                "Character models need each character many times: use a text in one script or language."
            )
        return cls(tuple(chr(c) for c in codes), codes)

    @classmethod
    def from_chars(cls, chars) -> "Vocab":
        chars = tuple(chars)
        codes = np.array([ord(c) for c in chars], dtype=np.int64)
        if len(set(chars)) != len(chars) or np.any(np.diff(codes) <= 0):
            raise TextError("A vocabulary must be distinct characters in sorted order.")
        _refuse_surrogates(codes, "The vocabulary")
        return cls(chars, codes)

    @property
    def size(self) -> int:
        return len(self.chars)

    def __len__(self) -> int:
        return len(self.chars)

    def __contains__(self, ch: str) -> bool:
        return ch in self.index

    @property
    def index(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.chars)}

    def unknown(self, text: str) -> list[str]:
        """The distinct characters of `text` that are not in the vocabulary, sorted."""
        codes = _distinct(_codepoints(text))
        missing = codes[~np.isin(codes, self._codepoints)]
        return [chr(c) for c in missing]

    def encode(self, text: str) -> np.ndarray:
        """Text -> (N,) int64 ids, in one vectorized pass (no Python loop per character)."""
        codes = _codepoints(text)
        if codes.size == 0:
            return np.zeros(0, dtype=np.int64)
        # A lookup table indexed by code point: one gather instead of a sort or search.
        table = np.full(max(int(codes.max()), int(self._codepoints[-1])) + 1, -1, dtype=np.int64)
        table[self._codepoints] = np.arange(len(self._codepoints))
        ids = table[codes]
        if ids.min() < 0:
            unknown = self.unknown(text)
            missing = ", ".join(repr(char_label(c)) for c in unknown[:10])
            more = f" and {len(unknown) - 10:,} more" if len(unknown) > 10 else ""
            raise TextError(f"These characters are not in the model's vocabulary: {missing}{more}. Remove them or retrain on a text that has them.")
        return ids

    def decode(self, ids) -> str:
        return "".join(self.chars[i] for i in np.asarray(ids, dtype=np.int64).ravel())


def _refuse_surrogates(codes: np.ndarray, what: str) -> None:
    """Sorted distinct code points: a lone surrogate (possible in a Python str) cannot be encoded as UTF-8,
    so a run holding one could be neither shown nor saved."""
    bad = codes[(codes >= 0xD800) & (codes <= 0xDFFF)]
    if bad.size:
        raise TextError(f"{what} contains U+{int(bad[0]):04X}, a lone surrogate that UTF-8 cannot encode (a broken "
                        "character, often from a bad copy or conversion). Remove it and try again.")


def _looks_utf16(raw: bytes) -> bool:
    """Mostly-ASCII UTF-16 has a NUL in every other byte: the high (LE) or low (BE) half of each unit."""
    head = raw[:100_000]
    even, odd = head[0::2].count(0), head[1::2].count(0)
    half = len(head) // 2
    return half > 0 and max(even, odd) > 0.5 * half and min(even, odd) < 0.05 * half


def _distinct(codes: np.ndarray) -> np.ndarray:
    """Sorted distinct code points; a count table is much faster than np.unique's sort."""
    if codes.size == 0:
        return codes
    return np.flatnonzero(np.bincount(codes))


def _codepoints(text: str) -> np.ndarray:
    # UTF-32-LE is one little-endian uint32 per code point: numpy reads it without a Python loop.
    # surrogatepass: a lone surrogate (possible in a Python str, never in decoded UTF-8) is one more code point.
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4").astype(np.intp)
