"""``python -m symjax.eval --gin_file=... --gin.NAME=VALUE``: see :mod:`symjax.train.binary`."""
from symjax.train.binary import eval_cli

if __name__ == "__main__":
    eval_cli()
