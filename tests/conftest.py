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
