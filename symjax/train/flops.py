"""Model FLOPs of a T5 training step, counted from the architecture (for MFU).

Only matrix products are counted, 2 FLOPs per multiply-add, as PaLM's MFU (Chowdhery et
al. 2022, appendix B) and MaxText do. A forward pass over a batch of ``B`` rows, ``Le``
input and ``Ld`` target positions, with ``a = num_heads * head_dim``:

* encoder layer: q, k, v and output projections ``4 * 2*B*Le*d*a``; attention scores and
  the weighted sum of values ``2 * 2*B*Le*Le*a``; gated-GELU MLP ``3 * 2*B*Le*d*f``;
* decoder layer: self-attention as the encoder's over ``Ld``; cross-attention q and output
  ``2 * 2*B*Ld*d*a``, k and v over the encoder output ``2 * 2*B*Le*d*a``, scores and sum
  ``2 * 2*B*Ld*Le*a``; MLP ``3 * 2*B*Ld*d*f``;
* output head ``2*B*Ld*d*V``.

Every position is counted, padding included (the step computes it), and causal attention
counts the full ``Ld x Ld`` square (the step computes it too). The backward pass is twice
the forward (a gradient for each operand of each product), so a step is 3x the forward.
Rematerialisation's recomputed forward is *not* counted: MFU measures useful work
(hardware FLOPs would be 4x the forward with full remat). Elementwise work (softmax,
norms, GELU, the optimizer) is left out: about 5% of XLA's count on the tiny test
model, a smaller share as ``d_model`` grows (not measured on XL: its layers are scanned, and
XLA's cost analysis counts a loop body once).

``tests/test_train.py`` checks :func:`train_step_flops` against XLA's
``compiled.cost_analysis()["flops"]`` of the real step on a tiny config.
"""
from __future__ import annotations

from symjax.model import T5Config

__all__ = ["forward_flops", "train_step_flops"]


def forward_flops(*, config: T5Config, batch: int, input_length: int, target_length: int
                  ) -> float:
    """Matmul FLOPs of one forward pass (teacher forcing) over ``batch`` rows."""
    d, f, v = config.d_model, config.d_ff, config.vocab_size
    a = config.num_heads * config.head_dim
    le, ld = input_length, target_length
    encoder_layer = 2 * le * (4 * d * a + 2 * le * a + 3 * d * f)
    decoder_layer = 2 * (ld * 4 * d * a + 2 * ld * ld * a        # self-attention
                         + ld * 2 * d * a + le * 2 * d * a         # cross q, o / k, v
                         + 2 * ld * le * a                         # cross scores and sum
                         + ld * 3 * d * f)                         # MLP
    head = 2 * ld * d * v
    per_row = (config.num_encoder_layers * encoder_layer
               + config.num_decoder_layers * decoder_layer + head)
    return float(batch) * per_row


def train_step_flops(*, config: T5Config, batch: int, input_length: int,
                     target_length: int) -> float:
    """Model FLOPs of one training step (forward + backward = 3x the forward) over the
    global batch; gradient accumulation does not change it."""
    return 3.0 * forward_flops(config=config, batch=batch, input_length=input_length,
                               target_length=target_length)
