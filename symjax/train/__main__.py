"""``python -m symjax.train --gin_file=... --gin.NAME=VALUE``: see :mod:`symjax.train.binary`."""
from symjax.train.binary import train_cli

if __name__ == "__main__":
    train_cli()
