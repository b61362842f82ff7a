"""Decoding with the KV cache against slow twins that recompute the full forward pass."""
from __future__ import annotations

import functools
import json
import os

import jax
import numpy as np
import pytest

from symjax.errors import ModelError, VocabularyError
from symjax.model import (T5, T5Config, beam_search, brevity_penalty, greedy_decode,
                          import_hf_checkpoint, init_params, temperature_sample)

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "hf_t5_tiny")


@pytest.fixture(scope="module")
def fixture_model():
    """The Hugging Face fixture model with an EOS id its greedy decodes actually emit."""
    with open(os.path.join(FIXTURE, "reference.json")) as f:
        eos_id = json.load(f)["greedy_eos_id"]
    config, params = import_hf_checkpoint(directory=FIXTURE)
    reference = np.load(os.path.join(FIXTURE, "reference.npz"))
    return config.replace(eos_id=eos_id), params, reference["encoder_input_ids"]


@functools.lru_cache(maxsize=None)
def _full_logits_fn(config: T5Config):
    return jax.jit(lambda p, enc, dec: T5(config).apply({"params": p}, enc, dec))


def _log_softmax(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float64)
    x = x - x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def naive_greedy(config, params, enc, length):
    """Greedy decoding that reruns the whole decoder for every new token (no cache)."""
    fn = _full_logits_fn(config)
    batch = enc.shape[0]
    dec = np.zeros((batch, length), np.int32)  # decoder inputs: start token, then outputs
    out = np.zeros((batch, length), np.int32)
    done = np.zeros(batch, bool)
    for t in range(length):
        logits = np.asarray(fn(params, enc, dec))[:, t]
        token = np.where(done, 0, logits.argmax(-1))
        out[:, t] = token
        done |= token == config.eos_id
        if t + 1 < length:
            dec[:, t + 1] = token
        if done.all():
            break
    return out


def naive_beam_search(config, params, enc_row, length, beams, alpha):
    """Beam search for one example in plain Python, full forward pass per step."""
    fn = _full_logits_fn(config)
    alive = [((), 0.0)]
    finished: list[tuple[float, tuple[int, ...]]] = []
    for step in range(length):
        dec = np.zeros((len(alive), length), np.int32)
        for i, (seq, _) in enumerate(alive):
            dec[i, 1:step + 1] = seq
        logits = np.asarray(fn(params, np.repeat(enc_row[None], len(alive), 0), dec))[:, step]
        log_probs = _log_softmax(logits)
        candidates = [(score + log_probs[i, v], seq + (v,))
                      for i, (seq, score) in enumerate(alive)
                      for v in range(config.vocab_size)]
        candidates.sort(key=lambda c: -c[0])  # stable: ties keep (beam, token) order
        top = candidates[:2 * beams]
        for score, seq in top:
            if seq[-1] == config.eos_id or step == length - 1:
                finished.append((score / float(brevity_penalty(step + 1, alpha)), seq))
        finished = sorted(finished, key=lambda c: -c[0])[:beams]
        alive = [(seq, score) for score, seq in top if seq[-1] != config.eos_id][:beams]
        bound = alive[0][1] / float(brevity_penalty(length, alpha))
        if len(finished) == beams and finished[-1][0] > bound:
            break
    tokens = np.zeros((beams, length), np.int32)
    for i, (_, seq) in enumerate(finished):
        tokens[i, :len(seq)] = seq
    return tokens, np.array([score for score, _ in finished])


def test_kv_cache_steps_equal_the_full_forward_pass(fixture_model):
    config, params, enc = fixture_model
    rng = np.random.default_rng(0)
    length = 9
    dec = rng.integers(2, config.vocab_size, (enc.shape[0], length)).astype(np.int32)
    dec[:, 0] = 0
    full = np.asarray(_full_logits_fn(config)(params, enc, dec))
    model = T5(config)

    @jax.jit
    def prefill(params, enc):
        encoded = model.apply({"params": params}, enc, method=T5.encode)
        return model.apply({"params": params}, encoded, enc, max_decode_length=length,
                           method=T5.init_decode_cache, mutable=["cache"])[1]["cache"]

    @jax.jit
    def step(params, cache, token):
        logits, variables = model.apply({"params": params, "cache": cache}, token,
                                        max_decode_length=length, method=T5.decode_step,
                                        mutable=["cache"])
        return logits, variables["cache"]

    cache = prefill(params, enc)
    assert cache["decoder"]["layers"]["self_attention"]["cached_key"].shape == (
        config.num_decoder_layers, enc.shape[0], length, config.num_heads, config.head_dim)
    for t in range(length):
        logits, cache = step(params, cache, dec[:, t:t + 1])
        np.testing.assert_allclose(np.asarray(logits), full[:, t], atol=2e-5)


def test_greedy_with_cache_equals_the_slow_twin(fixture_model):
    config, params, enc = fixture_model
    result = greedy_decode(model=T5(config), params=params, encoder_input_tokens=enc,
                           max_decode_length=10)
    expected = naive_greedy(config, params, enc, 10)
    np.testing.assert_array_equal(np.asarray(result.tokens), expected)
    # EOS handling: rows that emitted EOS are padded after it and their length counts it.
    tokens = np.asarray(result.tokens)
    for row, length in zip(tokens, np.asarray(result.lengths)):
        eos = np.flatnonzero(row == config.eos_id)
        if eos.size:
            assert length == eos[0] + 1 and not row[eos[0] + 1:].any()
        else:
            assert length == 10
    assert len(set(np.asarray(result.lengths).tolist())) > 1  # the batch really is ragged


@pytest.mark.parametrize("alpha", [0.0, 0.6])
def test_beam_search_equals_the_slow_twin(fixture_model, alpha):
    config, params, enc = fixture_model
    beams, length = 3, 6
    result = beam_search(model=T5(config), params=params, encoder_input_tokens=enc,
                         max_decode_length=length, num_beams=beams, alpha=alpha)
    for row in range(enc.shape[0]):
        tokens, scores = naive_beam_search(config, params, enc[row], length, beams, alpha)
        np.testing.assert_array_equal(np.asarray(result.tokens[row]), tokens)
        np.testing.assert_allclose(np.asarray(result.scores[row]), scores, atol=1e-4)
    assert np.all(np.diff(np.asarray(result.scores), axis=1) <= 0)  # best first


def test_one_beam_never_scores_below_greedy(fixture_model):
    # With one beam the greedy path is always the live beam or a finished hypothesis, so
    # the best finished score (alpha=0: plain log-prob) is at least greedy's. It can be
    # higher: a short hypothesis ending in EOS may beat the greedy path (row 2 here).
    config, params, enc = fixture_model
    greedy = greedy_decode(model=T5(config), params=params, encoder_input_tokens=enc,
                           max_decode_length=10)
    beam = beam_search(model=T5(config), params=params, encoder_input_tokens=enc,
                       max_decode_length=10, num_beams=1, alpha=0.0)
    assert np.all(np.asarray(beam.scores[:, 0]) >= np.asarray(greedy.scores) - 1e-5)
    same = np.all(np.asarray(beam.tokens[:, 0]) == np.asarray(greedy.tokens), axis=1)
    np.testing.assert_allclose(np.asarray(beam.scores[same, 0]),
                               np.asarray(greedy.scores)[same], atol=1e-5)
    assert same[:2].all() and not same[2]


def test_sampling_limits_and_reproducibility(fixture_model):
    config, params, enc = fixture_model
    model = T5(config)
    greedy = greedy_decode(model=model, params=params, encoder_input_tokens=enc,
                           max_decode_length=10)
    sample = functools.partial(temperature_sample, model=model, params=params,
                               encoder_input_tokens=enc, max_decode_length=10)
    for kwargs in (dict(temperature=0.0), dict(temperature=1.0, top_k=1)):
        np.testing.assert_array_equal(np.asarray(sample(rng=jax.random.key(0), **kwargs).tokens),
                                      np.asarray(greedy.tokens))
    a = sample(rng=jax.random.key(1), temperature=1.5)
    b = sample(rng=jax.random.key(1), temperature=1.5)
    c = sample(rng=jax.random.key(2), temperature=1.5)
    np.testing.assert_array_equal(np.asarray(a.tokens), np.asarray(b.tokens))
    assert not np.array_equal(np.asarray(a.tokens), np.asarray(c.tokens))


def test_sampling_follows_the_tempered_distribution():
    config = T5Config(vocab_size=12, d_model=8, num_heads=2, head_dim=4, num_encoder_layers=1,
                      num_decoder_layers=1, d_ff=8, name="test")
    params = init_params(config=config, rng=jax.random.key(3))
    n, temperature = 2000, 1.7
    enc = np.tile(np.array([[3, 4, 5]], np.int32), (n, 1))
    result = temperature_sample(model=T5(config), params=params, encoder_input_tokens=enc,
                                max_decode_length=1, rng=jax.random.key(4),
                                temperature=temperature)
    logits = np.asarray(_full_logits_fn(config)(params, enc[:1], np.zeros((1, 1), np.int32)))
    expected = np.exp(_log_softmax(logits[0, 0] / temperature))
    observed = np.bincount(np.asarray(result.tokens)[:, 0], minlength=config.vocab_size) / n
    tolerance = 4 * np.sqrt(expected * (1 - expected) / n) + 1e-3
    assert np.all(np.abs(observed - expected) <= tolerance), (observed, expected)
    # scores are the untempered log-probabilities of the sampled tokens
    np.testing.assert_allclose(np.asarray(result.scores),
                               _log_softmax(logits[0, 0])[np.asarray(result.tokens)[:, 0]],
                               atol=1e-5)


def test_decoding_rejects_bad_arguments(fixture_model):
    config, params, enc = fixture_model
    model = T5(config)
    bad = enc.copy()
    bad[0, 0] = config.vocab_size + 5
    with pytest.raises(VocabularyError, match=f"token id {config.vocab_size + 5}.*"
                                              f"\\[0, {config.vocab_size}\\)"):
        greedy_decode(model=model, params=params, encoder_input_tokens=bad, max_decode_length=4)
    with pytest.raises(ModelError, match="max_decode_length must be a positive int, got 0"):
        greedy_decode(model=model, params=params, encoder_input_tokens=enc, max_decode_length=0)
    with pytest.raises(ModelError, match="num_beams=100 needs 2 \\* num_beams <= vocab_size=128"):
        beam_search(model=model, params=params, encoder_input_tokens=enc, max_decode_length=4,
                    num_beams=100)
    with pytest.raises(ModelError, match="temperature must be >= 0, got -1"):
        temperature_sample(model=model, params=params, encoder_input_tokens=enc,
                           max_decode_length=4, rng=jax.random.key(0), temperature=-1)
    with pytest.raises(ModelError, match="\\[batch, length\\]"):
        greedy_decode(model=model, params=params, encoder_input_tokens=enc[0],
                      max_decode_length=4)
