"""Build-time layout of the wheel (the metadata is in pyproject.toml).

Besides the ``symjax`` packages the wheel carries the checkout's ``gin/`` as ``symjax/gin``
(``--gin_file=gin/local/cpu_demo.gin`` finds it there, as t5x finds its configs through
``gin_search_paths``) and ``tools/`` as ``symjax/tools`` (the console scripts of
``pyproject.toml`` run them). Neither directory moves in the checkout.
"""
from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["symjax", "symjax.*"]) + ["symjax.gin", "symjax.tools"],
    package_dir={"symjax.gin": "gin", "symjax.tools": "tools"},
)
