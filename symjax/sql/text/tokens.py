"""Token budgets: what the stream needs from a tokenizer to fit examples to a model's lengths.

A model reads token ids, not characters, so a stream that feeds a model fits its examples
in tokens of the model's own vocabulary (:class:`symjax.sql.StreamConfig`'s
``tokenizer``, ``max_input_tokens`` and ``max_target_tokens``). symjax.sql stays free of
TensorFlow and seqio: a :class:`Tokenizer` here is anything with

* ``encode(texts) -> (ids, lengths)``: the ids of every text, concatenated (``int32``), and
  each text's count (``int64``), exactly the ids the vocabulary gives the text alone;
* ``eos_id``: the id appended after the last token (seqio's ``append_eos``);
* ``joiner(separator)``: the ids a separator contributes between two texts encoded apart,
  such that ``encode(a + separator + b) == encode(a) + joiner + encode(b)``; ``None`` when
  the vocabulary gives no such guarantee (then whole prompts are encoded). With
  ``needs_clean_edges`` the guarantee holds only for texts without whitespace at their
  edges (SentencePiece); the stream checks that and otherwise encodes the whole prompt.

The joiner is what makes token budgets cheap: a block's table is encoded once and each
query's instruction and SQL apart, instead of the whole prompt once per query.

:class:`ByteTokenizer` is seqio's ``ByteVocabulary`` in numpy (UTF-8 bytes shifted by 3);
:class:`FunctionTokenizer` wraps any ``str -> list[int]`` function. The seqio
vocabularies' adapters (SentencePiece included) are in :mod:`symjax.tasks.tokenizers`.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from symjax.errors import ConfigError

__all__ = ["Tokenizer", "ByteTokenizer", "FunctionTokenizer", "split_ids", "append_eos", "select_ids"]


class Tokenizer:
    """Base class of the stream's tokenizers (see the module docstring)."""

    eos_id: int = 1
    needs_clean_edges: bool = False

    def encode(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def count(self, text: str) -> int:
        """The number of ids of ``text``."""
        return int(self.encode([text])[1][0])

    def lengths(self, texts: Sequence[str]) -> np.ndarray:
        """The number of ids of each text (``int64``), without the ids where that is cheaper."""
        return self.encode(texts)[1]

    def joiner(self, separator: str) -> np.ndarray | None:
        return None


class ByteTokenizer(Tokenizer):
    """seqio's ``ByteVocabulary``: the UTF-8 bytes of a text, each shifted by ``offset``
    (ids 0, 1, 2 are padding, EOS and UNK). It has no joiner: encoding a whole prompt is a
    memory copy, cheaper than joining pieces."""

    def __init__(self, *, offset: int = 3, eos_id: int = 1):
        self.offset = int(offset)
        self.eos_id = int(eos_id)

    def __repr__(self) -> str:
        return f"ByteTokenizer(offset={self.offset})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ByteTokenizer) and (self.offset, self.eos_id) == (other.offset, other.eos_id)

    def __hash__(self) -> int:
        return hash(("ByteTokenizer", self.offset, self.eos_id))

    def encode(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        data = [t.encode("utf-8") for t in texts]
        lengths = np.fromiter(map(len, data), np.int64, len(data))
        ids = np.frombuffer(b"".join(data), np.uint8).astype(np.int32)
        ids += self.offset
        return ids, lengths

    def count(self, text: str) -> int:
        return len(text) if text.isascii() else len(text.encode("utf-8"))

    def lengths(self, texts: Sequence[str]) -> np.ndarray:
        return np.fromiter(map(self.count, texts), np.int64, len(texts))


class FunctionTokenizer(Tokenizer):
    """Any ``encode_fn(text) -> list[int]``, one text at a time; whole prompts are encoded
    (no joiner), so it is exact for any vocabulary and slower than the specialised ones."""

    def __init__(self, encode_fn: Callable[[str], Sequence[int]], *, eos_id: int = 1):
        if not callable(encode_fn):
            raise ConfigError(f"FunctionTokenizer takes a function str -> list[int], got {encode_fn!r}")
        self.encode_fn = encode_fn
        self.eos_id = int(eos_id)

    def __repr__(self) -> str:
        return f"FunctionTokenizer({getattr(self.encode_fn, '__qualname__', self.encode_fn)!r})"

    def encode(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        pieces = [np.asarray(self.encode_fn(t), np.int32).reshape(-1) for t in texts]
        lengths = np.fromiter(map(len, pieces), np.int64, len(pieces))
        ids = np.concatenate(pieces) if pieces else np.zeros(0, np.int32)
        return ids.astype(np.int32, copy=False), lengths


def split_ids(ids: np.ndarray, lengths: np.ndarray) -> list[np.ndarray]:
    """The per-text id arrays (views) of an ``encode`` result."""
    ends = np.cumsum(lengths).tolist()
    return [ids[start:end] for start, end in zip([0] + ends[:-1], ends)]


def select_ids(ids: np.ndarray, lengths: np.ndarray, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ids and lengths of the texts where the boolean ``keep`` is true."""
    return ids[np.repeat(keep, lengths)], lengths[keep]


def append_eos(ids: np.ndarray, lengths: np.ndarray, eos_id: int) -> tuple[np.ndarray, np.ndarray]:
    """``eos_id`` appended to every text of an ``encode`` result."""
    return np.insert(ids, np.cumsum(lengths), np.int32(eos_id)), lengths + 1
