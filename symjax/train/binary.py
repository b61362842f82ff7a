"""The binaries' edge: absl flags and gin for ``python -m symjax.train`` and ``python -m symjax.eval``.

Flags follow t5x: ``--gin_file=FILE`` (repeatable; relative paths are also looked up where
symjax's ``gin/`` lives, :func:`symjax.gin_search_path`: the installed package, whose wheel
carries the configs, or the checkout's root; then ``--gin_search_paths``), ``--gin_bindings=NAME=VALUE``
and its shorthand ``--gin.NAME=VALUE``. gin configures exactly the classes registered here
(:data:`CONFIGURABLES`: ``T5Config``, ``TrainConfig``, ``EvalConfig``); library code never
imports gin. An unknown configurable, parameter or macro is a :class:`ConfigError`; so are a
``%gin.REQUIRED`` macro left unbound, a macro that no binding uses (a misspelt
``--gin.MODEL_DIRR=...`` would otherwise be ignored), and a command-line binding of the
config class the binary does not build (``--gin.EvalConfig.x=...`` for ``symjax.train``).

The resolved config is written to the run directory as ``config.gin`` (every binding) next
to the trainer's ``config.json``, by the trainer once every check of the start has passed (a
refused restart leaves both as they were).

Multi-host: with ``--multiprocess`` (default: automatic when ``JAX_COORDINATOR_ADDRESS``
is set or ``TPU_WORKER_HOSTNAMES`` lists several hosts) ``jax.distributed.initialize()``
runs first; on Cloud TPU pods it needs no arguments.
"""
from __future__ import annotations

import logging
import os
import re
import sys
from typing import Any, Callable, Sequence

from symjax import gin_search_path
from symjax.errors import ConfigError, SymjaxError

__all__ = ["rewrite_gin_args", "parse_gin", "register_configurables", "train_main",
           "eval_main", "train_cli", "eval_cli", "REPO_ROOT", "GIN_ROOT", "CONFIGURABLES", "unreferenced_macros",
           "check_macros_used", "check_bindings_used"]

log = logging.getLogger(__name__)
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Where gin/ is: the package itself when installed from a wheel, else the checkout's root.
GIN_ROOT = gin_search_path()
CONFIGURABLES = ("T5Config", "TrainConfig", "EvalConfig")
PREEMPTED_EXIT_CODE = 143  # 128 + SIGTERM, what a job scheduler expects after preemption
_registered = False


def rewrite_gin_args(argv: Sequence[str]) -> list[str]:
    """``--gin.NAME=VALUE`` -> ``--gin_bindings=NAME=VALUE`` (t5x's shorthand)."""
    out = []
    for arg in argv:
        match = re.match(r"^--gin\.([^=]+)=(.*)$", arg, re.DOTALL)
        out.append(f"--gin_bindings={match.group(1)} = {match.group(2)}" if match else arg)
    return out


def register_configurables() -> None:
    """Make the config classes configurable by gin (once per process)."""
    global _registered
    import gin

    from symjax.model import T5Config
    from symjax.train.trainer import TrainConfig
    from symjax.train.zero_shot import EvalConfig

    if _registered:
        return
    for cls in (T5Config, TrainConfig, EvalConfig):
        gin.external_configurable(cls, name=cls.__name__)
    _registered = True


def _search_paths(extra: Sequence[str]) -> list[str]:
    return [os.getcwd(), *dict.fromkeys((GIN_ROOT, REPO_ROOT)), *extra]


def parse_gin(*, files: Sequence[str], bindings: Sequence[str],
              search_paths: Sequence[str] = ()) -> None:
    """Parse gin files and bindings with symjax's configurables; errors become ConfigError."""
    import gin

    register_configurables()
    gin.clear_config()
    for path in _search_paths(search_paths):
        gin.add_config_file_search_path(path)
    resolved = []
    for name in files:
        found = next((os.path.join(p, name) for p in ["", *_search_paths(search_paths)]
                      if os.path.isfile(os.path.join(p, name))), None)
        if found is None:
            raise ConfigError(f"gin file {name!r} not found (looked in the working directory, "
                              f"{GIN_ROOT} and --gin_search_paths)")
        resolved.append(found)
    try:
        gin.parse_config_files_and_bindings(resolved, list(bindings), skip_unknown=False,
                                            finalize_config=False)
    except (ValueError, KeyError, SyntaxError, IOError) as e:
        raise ConfigError(
            f"gin config error: {e}. Configurable names are {', '.join(CONFIGURABLES)}; "
            "macros are set with --gin.NAME=VALUE (strings quoted: --gin.MODEL_DIR=\"'/tmp/run'\")"
        ) from e


def unbound_required_macros() -> list[str]:
    """Macros still set to ``%gin.REQUIRED`` after parsing (gin itself only checks
    parameters bound to it directly, not through a macro)."""
    import gin

    bindings = getattr(gin.config, "_CONFIG", {})
    return sorted(name for (name, kind), params in bindings.items()
                  if kind == "gin.macro" and repr(params.get("value")) == "%gin.REQUIRED")


def unreferenced_macros() -> list[str]:
    """Macros that are set but that no binding uses (``--gin.MODEL_DIRR=...``, or
    ``--gin.TRAIN_STEPS=...`` with a gin file that sets ``TrainConfig.train_steps``
    directly): gin would ignore them without a word."""
    import gin

    bindings = getattr(gin.config, "_CONFIG", {})
    used: set[str] = set()

    def visit(value: Any) -> None:
        if isinstance(value, gin.config.ConfigurableReference):
            if value.selector == "gin.macro" and value.scopes:
                used.add(value.scopes[-1])
        elif isinstance(value, dict):
            for v in value.values():
                visit(v)
        elif isinstance(value, (list, tuple, set)):
            for v in value:
                visit(v)

    for params in bindings.values():
        for value in params.values():
            visit(value)
    return sorted(name for name, kind in bindings if kind == "gin.macro" and name not in used)


def check_macros_used() -> None:
    """A :class:`ConfigError` naming every macro no binding uses, with the likely intended
    name when there is one."""
    import difflib

    import gin

    unused = unreferenced_macros()
    if not unused:
        return
    bindings = getattr(gin.config, "_CONFIG", {})
    macros = sorted(name for name, kind in bindings if kind == "gin.macro" and name not in unused)
    problems = []
    for name in unused:
        close = difflib.get_close_matches(name, macros, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        problems.append(f"{name}{hint}")
    raise ConfigError(
        f"gin macro(s) set but used by no binding, so they would be ignored: {'; '.join(problems)}. "
        f"Macros the config uses: {', '.join(macros) or 'none'}; to set a value the gin files bind "
        "directly, bind the parameter itself (e.g. --gin.TrainConfig.train_steps=100)")


def check_bindings_used(bindings: Sequence[str], cls_name: str) -> None:
    """A :class:`ConfigError` for a binding of a config class this binary does not build
    (``--gin.EvalConfig.num_examples=...`` given to ``symjax.train``): it would be ignored."""
    other = [c for c in CONFIGURABLES if c not in ("T5Config", cls_name)]
    for binding in bindings:
        name = binding.split("=", 1)[0].strip()
        configurable, _, param = name.rpartition(".")
        configurable = configurable.rpartition("/")[2]
        if configurable in other:
            raise ConfigError(
                f"the binding {name} would be ignored: this binary builds {cls_name}, not "
                f"{configurable}; bind {cls_name}.{param} instead, or pass it to the binary that "
                f"builds {configurable}")


def build_from_gin(cls_name: str) -> Any:
    """The gin-configured ``cls_name`` (``TrainConfig``, ``EvalConfig``), with a typed
    :class:`ConfigError` naming an unset REQUIRED macro, a macro no binding uses, or a bad
    binding."""
    import gin

    check_macros_used()
    missing = unbound_required_macros()
    if missing:
        flags = " ".join(f"--gin.{m}=..." for m in missing)
        raise ConfigError(f"required gin macros are not set: {', '.join(missing)}; set them "
                          f"with {flags} (see the gin file's header)")
    try:
        return gin.get_configurable(cls_name)()
    except SymjaxError as e:
        # gin appends "In call to configurable ..." on a second line; the message says it all
        message = str(e).split("\n  In call to configurable")[0]
        if message == str(e):
            raise
        cls = type(e)
        while "__getattr__" in vars(cls) and cls.__bases__:  # gin's proxy of the exception
            cls = cls.__bases__[0]
        raise cls(message) from e
    except (ValueError, TypeError, RuntimeError) as e:
        message = str(e)
        if "REQUIRED" in message or "Required" in message:
            raise ConfigError(f"a required gin binding is missing: {message.splitlines()[0]}. "
                              "Set it with --gin.NAME=VALUE (see the gin file's header)") from e
        raise ConfigError(f"cannot build {cls_name} from the gin config: {message}") from e


def _write_gin_config(directory: str) -> None:
    import gin
    import jax

    if jax.process_index() != 0:
        return
    from etils import epath

    path = epath.Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    (path / "config.gin").write_text(gin.config_str())


def _maybe_initialize_distributed(flag: bool | None) -> None:
    import jax

    hosts = os.environ.get("TPU_WORKER_HOSTNAMES", "")
    auto = bool(os.environ.get("JAX_COORDINATOR_ADDRESS")) or hosts.count(",") >= 1
    if flag or (flag is None and auto):
        jax.distributed.initialize()
        log.info("jax.distributed: process %d of %d", jax.process_index(), jax.process_count())


def _define_flags() -> Any:
    from absl import flags

    if "gin_file" not in flags.FLAGS:
        flags.DEFINE_multi_string("gin_file", [], "gin config file(s), applied in order")
        flags.DEFINE_multi_string("gin_bindings", [], "gin bindings NAME=VALUE (also --gin.NAME=VALUE)")
        flags.DEFINE_multi_string("gin_search_paths", [], "extra directories for gin files and includes")
        flags.DEFINE_boolean("multiprocess", None, "call jax.distributed.initialize() (default: auto)")
    return flags.FLAGS


def train_main(argv: Sequence[str]) -> int:
    """``python -m symjax.train`` with ``argv`` (program name first); returns the exit code."""
    return _run(argv, _train)


def eval_main(argv: Sequence[str]) -> int:
    """``python -m symjax.eval`` with ``argv`` (program name first); returns the exit code."""
    return _run(argv, _eval)


def _run(argv: Sequence[str], body: Callable[[Any], int]) -> int:
    FLAGS = _define_flags()
    FLAGS.unparse_flags()  # a second call in one process starts from the defaults
    rest = FLAGS(rewrite_gin_args(argv))
    if not FLAGS["verbosity"].present:  # progress lines are INFO; unparse_flags reset it
        from absl import logging as absl_logging

        absl_logging.set_verbosity(absl_logging.INFO)
    if len(rest) > 1:
        raise ConfigError(f"unexpected arguments {rest[1:]}; use --gin_file and --gin.NAME=VALUE")
    _maybe_initialize_distributed(FLAGS.multiprocess)
    parse_gin(files=FLAGS.gin_file, bindings=FLAGS.gin_bindings, search_paths=FLAGS.gin_search_paths)
    return body(FLAGS)


def _train(FLAGS: Any) -> int:
    from symjax.train.trainer import train

    import gin

    check_bindings_used(FLAGS.gin_bindings, "TrainConfig")
    config = build_from_gin("TrainConfig")
    # config.gin is written with config.json, once every check of the start has passed
    result = train(config, run_files={"config.gin": gin.config_str()})
    return PREEMPTED_EXIT_CODE if result.preempted else 0


def _eval(FLAGS: Any) -> int:
    from symjax.train.zero_shot import evaluate, format_table

    check_bindings_used(FLAGS.gin_bindings, "EvalConfig")
    config = build_from_gin("EvalConfig")
    _write_gin_config(config.output_dir)
    results = evaluate(config)
    print(format_table(results))
    print(f"\npredictions, metrics.json and report.md in {config.output_dir}")
    return 0


def _cli(main: Callable[[Sequence[str]], int]) -> None:
    from absl import logging as absl_logging

    absl_logging.use_absl_handler()
    logging.getLogger().setLevel(logging.INFO)
    for noisy in ("absl", "jax._src", "tensorflow", "orbax", "seqio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        code = main(sys.argv)
    except SymjaxError as e:
        print(f"error: {e}", file=sys.stderr)
        code = 2
    sys.exit(code)


def train_cli() -> None:
    """Console script ``symjax-train``."""
    _cli(train_main)


def eval_cli() -> None:
    """Console script ``symjax-eval``."""
    _cli(eval_main)
