"""`model.name`: a hub id or a local directory, loaded with `from_pretrained` in one error line."""

from __future__ import annotations

from pathlib import Path

from textclf.config.errors import ParamsError
from textclf.config.sources import is_hub_id


def resolve_model_name(name: str, key: str = "model.name") -> str:
    """`name` as an existing local directory, or as a hub id (`bert-base-cased`, `org/model`);
    ParamsError naming `key` (the param that holds it) otherwise."""
    local = Path(name).expanduser()
    if local.is_dir():
        return str(local)
    if not is_hub_id(name):
        raise ParamsError(
            f"{key} {name!r} is neither an existing local directory nor a hub id like "
            f"'bert-base-cased' or 'org/model'"
        )
    return name


def from_pretrained(factory: type, name: str, key: str = "model.name", **kwargs: object) -> object:
    """`factory.from_pretrained` for the model that the param `key` names, failing in one line.

    Remote code is never run (`trust_remote_code` keeps its default, False); model loaders
    here also pass `use_safetensors=True`, so pickled weights are refused."""
    try:
        return factory.from_pretrained(resolve_model_name(name, key), **kwargs)
    except (OSError, ValueError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ParamsError(f"{key} {name!r} cannot be loaded: {reason}") from None
