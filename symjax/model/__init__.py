"""T5 1.1 / Flan-T5 in Flax: model, configs, decoding, weight import and export (Flax only, no TF).

Quick start::

    from symjax import model as m
    config = m.from_name("base")
    config, params = m.import_hf_checkpoint(directory="flan-t5-base")   # local HF download
    result = m.greedy_decode(model=m.T5(config), params=params,
                             encoder_input_tokens=ids, max_decode_length=64)

Sharding lives in :mod:`symjax.train.partitioning`; parameters carry logical axis names
(the constants ``BATCH`` ... ``VOCAB`` below) for it.
"""
from symjax.model.config import (MODEL_SIZES, T5Config, config_mismatches, from_hf_config,
                                 from_name)
from symjax.model.t5 import (BATCH, EMBED, HEADS, KV, LAYERS, LENGTH, LOGICAL_AXIS_NAMES,
                             MLP, RELPOS_BUCKETS, VOCAB, T5, abstract_params, check_token_ids,
                             init_params, param_logical_axes, relative_position_bucket,
                             token_cross_entropy)
from symjax.model.decoding import (DecodeResult, beam_search, brevity_penalty, greedy_decode,
                                   temperature_sample)
from symjax.model.weights import (import_hf_checkpoint, import_t5x_checkpoint,
                                  load_checkpoint, read_checkpoint_config, save_checkpoint)
from symjax.model.export import export_hf_checkpoint, export_t5x_checkpoint, hf_config_dict

__all__ = [
    # config
    "T5Config", "MODEL_SIZES", "from_name", "from_hf_config", "config_mismatches",
    # model
    "T5", "init_params", "abstract_params", "param_logical_axes", "check_token_ids",
    "token_cross_entropy", "relative_position_bucket",
    "BATCH", "LENGTH", "EMBED", "MLP", "HEADS", "KV", "VOCAB", "RELPOS_BUCKETS",
    "LAYERS", "LOGICAL_AXIS_NAMES",
    # decoding
    "DecodeResult", "greedy_decode", "temperature_sample", "beam_search", "brevity_penalty",
    # weights
    "import_hf_checkpoint", "import_t5x_checkpoint", "save_checkpoint", "load_checkpoint",
    "read_checkpoint_config", "export_hf_checkpoint", "export_t5x_checkpoint", "hf_config_dict",
]
