"""The data core's tokenizers for seqio vocabularies: how a task counts and writes the tokens
its examples are fitted to.

:func:`tokenizer_for` turns a ``seqio.Vocabulary`` into a
:class:`symjax.sql.text.tokens.Tokenizer` that gives exactly ``vocabulary.encode(text)`` for any
text:

* ``seqio.ByteVocabulary`` -> :class:`symjax.sql.text.tokens.ByteTokenizer` (numpy; UTF-8 bytes
  shifted by the vocabulary's special ids);
* ``seqio.SentencePieceVocabulary`` -> :class:`SentencePieceTokenizer`, batched through the
  SentencePiece processor seqio itself uses. Its joiner (one encoding of a block's table
  for all the block's queries) is enabled only for models that split on whitespace, add
  the dummy prefix and fold whitespace (T5's and Flan-T5's ``cc_all.32000`` model, and
  what ``spm_train`` makes by default), and after a probe of the model confirms it;
* any other vocabulary -> :class:`symjax.sql.text.tokens.FunctionTokenizer` over its ``encode``.

Loading a SentencePiece model that cannot be read (the default vocabulary lives in
``gs://t5-data`` and needs the network) raises :class:`~symjax.errors.VocabularyError`
naming the offline alternatives.
"""
from __future__ import annotations

import threading
import weakref
from typing import Any, Sequence

import numpy as np

from symjax.errors import VocabularyError
from symjax.sql.text.tokens import ByteTokenizer, FunctionTokenizer, Tokenizer

__all__ = ["SentencePieceTokenizer", "tokenizer_for", "load_vocabulary"]

# probes of the joiner's promise encode(a + sep + b) == encode(a) + encode(b)
_JOIN_PROBES = (
    ("Execute SQL on the table: SELECT \"Gold\" FROM w WHERE \"Nation\" = 'Brazil'",
     "header: Rank | Nation | Gold\nrow 1 : 1 | Brazil | 12\nrow 2 : 2 | Côte d'Ivoire | 3.5"),
    ("select count(*) from w", "col : year | film row 1 : 2001 | the long road"),
    ("| a | b |\n| --- | --- |\n| 1 | x |", "What is the result of this SQL query? SELECT MAX(\"a\") FROM w"),
)


def load_vocabulary(vocabulary: Any) -> None:
    """Make sure ``vocabulary`` can be used: a SentencePiece model is read now, and a model
    that cannot be read raises :class:`VocabularyError` naming the offline alternatives."""
    import seqio

    if not isinstance(vocabulary, seqio.SentencePieceVocabulary):
        return
    path = vocabulary.sentencepiece_model_file
    try:
        vocabulary.tokenizer  # reads the model file (seqio caches it per process)
    except Exception as e:  # TensorFlow's file system raises its own error types
        remote = "://" in str(path)
        hint = (" (a remote file: without network access it cannot be read)" if remote else "")
        raise VocabularyError(
            f"cannot read the SentencePiece model {path}{hint}: {type(e).__name__}: {str(e)[:300]}. "
            "Offline, use SYMJAX_VOCABULARY=byte (seqio.ByteVocabulary) or SYMJAX_VOCABULARY=<path of a "
            "local .model file> (a copy of the same model keeps the token ids), or call "
            "symjax.tasks.set_vocabulary(...)"
        ) from e


class SentencePieceTokenizer(Tokenizer):
    """A ``seqio.SentencePieceVocabulary`` for the data core: batched encoding through the
    vocabulary's own SentencePiece processor (the ids ``vocabulary.encode`` gives)."""

    needs_clean_edges = True

    def __init__(self, vocabulary: Any):
        load_vocabulary(vocabulary)
        self.vocabulary = vocabulary
        self._processor = vocabulary.tokenizer
        self.eos_id = int(vocabulary.eos_id)
        self._joins = _joins_at_whitespace(vocabulary, self)

    def __repr__(self) -> str:
        return f"SentencePieceTokenizer({self.vocabulary.sentencepiece_model_file!r})"

    def encode(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        pieces = self._processor.encode(list(texts), out_type=int)
        lengths = np.fromiter(map(len, pieces), np.int64, len(pieces))
        ids = np.fromiter((i for p in pieces for i in p), np.int32, int(lengths.sum()))
        return ids, lengths

    def count(self, text: str) -> int:
        return len(self._processor.encode(text, out_type=int))

    def lengths(self, texts: Sequence[str]) -> np.ndarray:
        pieces = self._processor.encode(list(texts), out_type=int)
        return np.fromiter(map(len, pieces), np.int64, len(pieces))

    def joiner(self, separator: str) -> np.ndarray | None:
        if self._joins and separator and separator.isspace():
            return np.zeros(0, np.int32)
        return None


def _joins_at_whitespace(vocabulary: Any, tokenizer: SentencePieceTokenizer) -> bool:
    """Whether pieces of text split at whitespace may be encoded apart: the model splits on
    whitespace, adds the dummy prefix and removes extra whitespace (so a separator becomes
    the next piece's word boundary), and encoding the probes apart gives the same ids."""
    try:
        from sentencepiece import sentencepiece_model_pb2

        model = sentencepiece_model_pb2.ModelProto.FromString(vocabulary.sp_model)
    except Exception:  # an unreadable or unusual model: encode whole prompts
        return False
    normalizer, trainer = model.normalizer_spec, model.trainer_spec
    if not (normalizer.add_dummy_prefix and normalizer.remove_extra_whitespaces
            and trainer.split_by_whitespace and not trainer.treat_whitespace_as_suffix):
        return False
    encode = tokenizer._processor.encode
    for a, b in _JOIN_PROBES:
        for sep in ("\n", " "):
            if encode(a + sep + b, out_type=int) != encode(a, out_type=int) + encode(b, out_type=int):
                return False
    return True


_CACHE: dict[int, tuple[Any, Tokenizer]] = {}  # id(vocabulary) -> (weak reference, tokenizer)
_LOCK = threading.Lock()


def tokenizer_for(vocabulary: Any) -> Tokenizer:
    """The :class:`~symjax.sql.text.tokens.Tokenizer` of a seqio vocabulary (see the module
    docstring); one per vocabulary object (seqio vocabularies compare by content and are
    not hashable, so they are remembered by identity)."""
    import seqio

    with _LOCK:
        entry = _CACHE.get(id(vocabulary))
        if entry is not None and entry[0]() is vocabulary:
            return entry[1]
        if isinstance(vocabulary, seqio.ByteVocabulary):
            offset = vocabulary.encode("\x00")[0]  # the first byte's id: after the special ids
            tokenizer: Tokenizer = ByteTokenizer(offset=int(offset), eos_id=int(vocabulary.eos_id))
        elif isinstance(vocabulary, seqio.SentencePieceVocabulary):
            tokenizer = SentencePieceTokenizer(vocabulary)
        else:
            tokenizer = FunctionTokenizer(vocabulary.encode, eos_id=int(vocabulary.eos_id))
        for key in [k for k, (ref, _) in _CACHE.items() if ref() is None]:
            del _CACHE[key]
        try:
            _CACHE[id(vocabulary)] = (weakref.ref(vocabulary), tokenizer)
        except TypeError:  # not weak-referenceable: not remembered
            pass
        return tokenizer
