"""Stage 5, files: examples written as TFRecord (without TensorFlow) or JSONL.

* :mod:`symjax.sql.export.records`: the writers and reader, ``tf.train.Example``
  serialization;
* ``_record_kernels``: CRC32C in numba.
"""
from symjax.sql.export.records import (
    JsonlWriter,
    TFRecordWriter,
    read_tfrecord,
    serialize_example,
)

__all__ = ["JsonlWriter", "TFRecordWriter", "read_tfrecord", "serialize_example"]
