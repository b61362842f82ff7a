r"""Write the Hugging Face parity fixture for symjax's T5 (tests/fixtures/hf_t5_tiny/).

A tiny random T5 1.1 model (gated-GELU, untied head) is built and saved with
``transformers``; its float32 logits on fixed token ids, its greedy decodes and its
relative-position buckets are stored next to it. ``tests/test_weights.py`` loads the
fixture through symjax's Hugging Face importer and checks logits to 1e-4 and greedy
decodes exactly. Tests never import torch or transformers; only this script does.

Command (CPU, a few seconds; the fixture is about 300 kB):

    pip install torch==2.13.0 transformers
    python tools/make_hf_fixture.py --output=tests/fixtures/hf_t5_tiny

The same environment checks the export the other way (symjax -> Hugging Face logits, on
this fixture and on a random model; the test skips where torch is absent):

    python -m pytest tests/test_export.py -k transformers
"""
from __future__ import annotations

import json
import os
import tempfile

from absl import app, flags
import numpy as np

FLAGS = flags.FLAGS
flags.DEFINE_string("output", "tests/fixtures/hf_t5_tiny", "Directory to write.")
flags.DEFINE_integer("seed", 0, "torch and numpy seed.")
flags.DEFINE_integer("max_new_tokens", 16, "Greedy decode length.")

VOCAB_SIZE = 128
ENCODER_LENGTHS = (40, 27, 9)  # one row full, two right-padded
DECODER_LENGTH = 20
BUCKET_RANGE = 300  # relative positions -300..300 for the bucket table


def _random_tokens(rng: np.random.Generator, lengths: tuple[int, ...], width: int) -> np.ndarray:
    tokens = np.zeros((len(lengths), width), dtype=np.int64)
    for row, length in enumerate(lengths):
        # 2.. avoids pad (0) and EOS (1) inside the text, as a tokenizer would.
        tokens[row, :length] = rng.integers(2, VOCAB_SIZE, size=length)
    return tokens


def _untied_t5(transformers, torch, config):
    """A random T5ForConditionalGeneration with an output head separate from the embedding.

    transformers 5 always ties ``lm_head`` to ``shared`` in a freshly built T5 and reads
    ``tie_word_embeddings=False`` only as "do not rescale the decoder output". Pretrained
    Flan-T5 checkpoints carry a separate ``lm_head.weight``, which from_pretrained keeps
    untied; the fixture must look like them, so the head gets its own random weights.
    """
    model = transformers.T5ForConditionalGeneration(config).eval()
    head = torch.nn.Parameter(torch.randn(config.vocab_size, config.d_model))
    model.lm_head.weight = head
    model.all_tied_weights_keys.pop("lm_head.weight", None)
    model.config.tie_word_embeddings = False
    return model


def main(argv: list[str]) -> None:
    del argv
    import torch
    import transformers
    from transformers.models.t5 import modeling_t5

    torch.manual_seed(FLAGS.seed)
    rng = np.random.default_rng(FLAGS.seed)
    config = transformers.T5Config(
        vocab_size=VOCAB_SIZE,
        d_model=32,
        d_kv=8,
        d_ff=64,
        num_layers=2,
        num_decoder_layers=2,
        num_heads=4,
        relative_attention_num_buckets=32,
        relative_attention_max_distance=128,
        dropout_rate=0.0,
        layer_norm_epsilon=1e-6,
        feed_forward_proj="gated-gelu",
        tie_word_embeddings=False,
        pad_token_id=0,
        eos_token_id=1,
        decoder_start_token_id=0,
    )
    model = _untied_t5(transformers, torch, config)
    with tempfile.TemporaryDirectory() as staging:
        # Save and reload, so the reference numbers are those of the checkpoint as
        # transformers reads it (what symjax's importer reads too).
        model.save_pretrained(staging, safe_serialization=True)
        model = transformers.T5ForConditionalGeneration.from_pretrained(staging).eval()
    if model.config.scale_decoder_outputs or model.lm_head.weight is model.shared.weight:
        raise RuntimeError("the reloaded fixture model is not untied T5 1.1; check transformers")

    encoder_input_ids = _random_tokens(rng, ENCODER_LENGTHS, max(ENCODER_LENGTHS))
    targets = _random_tokens(rng, (DECODER_LENGTH,) * len(ENCODER_LENGTHS), DECODER_LENGTH)
    decoder_input_ids = np.concatenate(
        [np.zeros((len(ENCODER_LENGTHS), 1), np.int64), targets[:, :-1]], axis=1
    )
    encoder_ids_t = torch.from_numpy(encoder_input_ids)
    attention_mask = (encoder_ids_t != 0).long()
    with torch.no_grad():
        logits = model(
            input_ids=encoder_ids_t,
            attention_mask=attention_mask,
            decoder_input_ids=torch.from_numpy(decoder_input_ids),
        ).logits.numpy().astype(np.float32)

        def greedy(eos_id: int | None) -> np.ndarray:
            out = model.generate(
                input_ids=encoder_ids_t, attention_mask=attention_mask, do_sample=False,
                num_beams=1, max_new_tokens=FLAGS.max_new_tokens, min_new_tokens=0,
                eos_token_id=eos_id, pad_token_id=0, decoder_start_token_id=0,
            ).numpy()
            return out[:, 1:]  # drop the decoder start token

        # A random model rarely emits id 1, so pick as EOS a token the model does emit
        # mid-sequence: the fixture then covers EOS and the padding after it.
        free_run = greedy(None)
        candidates = [int(t) for t in free_run[0, 2:-2] if t not in free_run[1:, :3]]
        eos_id = candidates[0] if candidates else int(free_run[0, 3])
        greedy_tokens = greedy(eos_id)
        width = FLAGS.max_new_tokens
        greedy_tokens = np.pad(greedy_tokens, ((0, 0), (0, width - greedy_tokens.shape[1])))

        relative = torch.arange(-BUCKET_RANGE, BUCKET_RANGE + 1)
        bucket = modeling_t5.T5Attention._relative_position_bucket
        buckets_bidirectional = bucket(relative, bidirectional=True, num_buckets=32,
                                       max_distance=128).numpy()
        buckets_causal = bucket(relative, bidirectional=False, num_buckets=32,
                                max_distance=128).numpy()

    os.makedirs(FLAGS.output, exist_ok=True)
    model.save_pretrained(FLAGS.output, safe_serialization=True)
    np.savez_compressed(
        os.path.join(FLAGS.output, "reference.npz"),
        encoder_input_ids=encoder_input_ids.astype(np.int32),
        decoder_input_ids=decoder_input_ids.astype(np.int32),
        logits=logits,
        greedy_tokens=greedy_tokens.astype(np.int32),
        relative_positions=relative.numpy().astype(np.int32),
        buckets_bidirectional=buckets_bidirectional.astype(np.int32),
        buckets_causal=buckets_causal.astype(np.int32),
    )
    meta = {
        "made_by": "tools/make_hf_fixture.py",
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "seed": FLAGS.seed,
        "greedy_eos_id": eos_id,
        "greedy_max_new_tokens": FLAGS.max_new_tokens,
        "greedy_free_run": free_run.tolist(),
    }
    with open(os.path.join(FLAGS.output, "reference.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    for name in sorted(os.listdir(FLAGS.output)):
        print(name, os.path.getsize(os.path.join(FLAGS.output, name)), "bytes")
    print("greedy eos id:", eos_id)
    print("greedy tokens:\n", greedy_tokens)


if __name__ == "__main__":
    app.run(main)
