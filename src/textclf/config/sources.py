"""Can this machine reach the pipeline's sources (the data files and the pretrained model)?

Asked once before anything runs, so that an offline machine hears about every missing source
in one message, with what to do, instead of meeting them one stage at a time (the model after
a minute of the hub's retries)."""

from __future__ import annotations

import http.client
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from textclf.config.errors import UserError
from textclf.config.files import redact, to_url

HUB_ID = re.compile(r"^[\w.-]+(/[\w.-]+)?$")  # `bert-base-cased`, `org/model`
TIMEOUT_S = 10  # a reachable host answers a HEAD request in well under this
MODEL_KEY = "model.name"
DATA_HINT = (
    "offline, put the files on this machine and point the keys at them (`dvc exp run -S "
    "data.train_url=<path> -S data.test_url=<path>`, or `make quick DATA=<folder>` with "
    "AG-News-format train.csv and test.csv)"
)
MODEL_HINT = (
    "set model.name to a model folder (`-S model.name=<folder>`; on a connected machine "
    "`hf download <hub id> --local-dir <folder>` makes one to copy here)"
)


class SourcesError(UserError):
    """One or more sources cannot be reached; the message names them all."""


def is_hub_id(name: str) -> bool:
    """Whether `model.name` reads as a hub id (`bert-base-cased`, `org/model`), not a path."""
    looks_like_path = name.startswith((".", "/", "~")) or name.count("/") > 1
    return not looks_like_path and bool(HUB_ID.match(name))


def data_problem(source: str) -> str | None:
    """Why the data file `source` (a URL or a local path) cannot be read, or None."""
    url = to_url(source)
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme == "file":
        path = Path(urllib.request.url2pathname(urllib.parse.urlsplit(url).path))
        try:
            path.open("rb").close()
        except OSError as error:
            return (error.strerror or str(error)).lower()
        return None
    if scheme not in ("http", "https"):
        return f"unsupported URL scheme {scheme!r}"
    return url_problem(url)


def url_problem(url: str, missing: str = "not found (HTTP 404)") -> str | None:
    """Why a HEAD request to `url` gets no answer, or None. Any answer but 404 means the
    host is reachable: a server that refuses HEAD, or wants a token, is still there."""
    request = urllib.request.Request(url, method="HEAD")
    try:
        urllib.request.urlopen(request, timeout=TIMEOUT_S).close()
    except urllib.error.HTTPError as error:
        return missing if error.code == 404 else None
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as error:
        return redact(str(getattr(error, "reason", error)))
    return None


def model_problem(name: str) -> str | None:
    """Why the pretrained model `name` (a local folder or a hub id) cannot be loaded here:
    a folder without config.json, or a hub id that is neither in the local hub cache nor on a
    reachable hub. None when it can."""
    local = Path(name).expanduser()
    if local.is_dir():
        return None if (local / "config.json").is_file() else "the folder has no config.json"
    if not is_hub_id(name):
        return "no such folder"
    # imported here: the data checks, and `textclf --help`, do not need it
    from huggingface_hub import constants, try_to_load_from_cache

    if isinstance(try_to_load_from_cache(name, "config.json"), str):
        return None
    if constants.HF_HUB_OFFLINE:
        return "not in the local hub cache, and HF_HUB_OFFLINE is set"
    url = f"{constants.ENDPOINT}/{name}/resolve/main/config.json"
    return url_problem(url, missing="no such model on the hub")


def check_sources(sources: Mapping[str, str], where: Mapping[str, str] | None = None) -> None:
    """SourcesError naming every key of `sources` (param key -> data URL or path, or
    `model.name` -> model) that this machine cannot reach. `where`: a key's place to show,
    e.g. `params.yaml:6`."""
    where = where or {}
    problems = {}
    for key, source in sources.items():
        problem = model_problem(source) if key == MODEL_KEY else data_problem(source)
        if problem:
            problems[key] = f"{redact(source)}: {problem}"
    if not problems:
        return
    named = ", ".join(
        f"{key} ({where[key]}: {problem})" if key in where else f"{key} ({problem})"
        for key, problem in problems.items()
    )
    hints = [DATA_HINT] if set(problems) - {MODEL_KEY} else []
    hints += [MODEL_HINT] if MODEL_KEY in problems else []
    raise SourcesError(f"cannot reach {named}; nothing was run: {'; '.join(hints)}")
