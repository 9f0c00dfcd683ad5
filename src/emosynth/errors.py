"""Errors that reach the user as one clear line (the CLI prints ``str(error)`` and exits non-zero)."""


class EmosynthError(Exception):
    """Base class: a problem the user can fix; the message names the file/line or the fix."""


class ConfigError(EmosynthError):
    """Invalid configuration, option or input file."""


class UnknownNameError(ConfigError):
    """An unknown taxonomy, backend, model or label."""


class ModelFileError(EmosynthError):
    """A model file is missing or fails its checksum."""


class BackendError(EmosynthError):
    """An LLM backend cannot serve requests (server down, bad answers, missing runtime)."""


class MissingDependencyError(EmosynthError):
    """An optional dependency is not installed."""


def requires(module: str, extra: str, pip_name: str | None = None):
    """Import ``module`` or fail with the install command.

    Args:
        module: importable module name.
        extra: the emosynth extra that provides it.
        pip_name: the PyPI name, when it differs from ``module``.
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"Please install `{pip_name or module}` to use this feature (`pip install 'emosynth[{extra}]'`): {exc}"
        ) from exc


def validated(model_class, where: str | None = None, /, **values):
    """``model_class(**values)`` for a pydantic model; a validation error becomes one ``ConfigError`` line naming
    ``where`` (a file, a flag), the setting's path and what is wrong with it."""
    from pydantic import ValidationError

    try:
        return model_class(**values)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(map(str, err["loc"])) or "config"
        msg = err["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{where}: {loc}: {msg}" if where else f"Invalid setting {loc}: {msg}") from None
