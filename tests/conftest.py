import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("SYMJAX_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (real benchmark samples); skips cleanly when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is absent (real benchmark samples live beside the repo)")
    return SHARED_DATA


@pytest.fixture(scope="module")
def byte_tasks_on_fixture_data():
    """Every symjax task on ``seqio.ByteVocabulary`` reading ``tests/fixtures/benchmarks``;
    both settings are reset afterwards. Skips when task registration is disabled."""
    import seqio

    import symjax.tasks as T

    if not T.SEQIO_AVAILABLE:
        pytest.skip("symjax.tasks registration is disabled (SYMJAX_TASKS_REGISTER=0)")
    T.set_vocabulary(seqio.ByteVocabulary())
    T.set_data_dir(REPO / "tests" / "fixtures" / "benchmarks")
    yield
    T.set_data_dir(None)
    T.set_vocabulary(None)


def assert_trees_equal(a, b):
    """Two parameter trees with the same paths, dtypes and values, exactly."""
    import jax
    import numpy as np

    flat_a = jax.tree_util.tree_flatten_with_path(a)[0]
    flat_b = dict(jax.tree_util.tree_flatten_with_path(b)[0])
    assert [p for p, _ in flat_a] == list(flat_b)
    for path, leaf in flat_a:
        other = np.asarray(flat_b[path])
        assert np.asarray(leaf).dtype == other.dtype, path
        np.testing.assert_array_equal(np.asarray(leaf), other, err_msg=str(path))
