"""The service's request bodies, read by hand rather than by a schema library so that every
bad body gets one line in the service's `{"error": ...}` shape (never a 500):

- this service's shape: `{"texts": [str, ...]}` or `{"records": [{column: str}, ...]}`;
- the Hugging Face inference shape: `{"inputs": str | [str, ...], "parameters": {"top_k": k}}`,
  which `huggingface_hub.InferenceClient(model=URL).text_classification` sends."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pandas as pd

from textclf.data.checkpoint_settings import CheckpointSettings
from textclf.data.text import join_text

MAX_NESTING = 32  # a body nested deeper is not a classification request (and costs a stack)
# a string's plain runs matched whole, not a character at a time: a megabyte text costs ms
JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
BRACKET = re.compile(r"[\[\]{}]")


class BadRequest(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Request:
    texts: list[str]
    hf_shape: bool = False  # answer as the Hugging Face inference API does
    single: bool = False  # HF `inputs` was one string
    top_k: int | None = None


def parse_json(body: bytes) -> object:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest(400, "body is not UTF-8") from None
    # before json.loads, which recurses once per level: brackets outside strings only, so a
    # text full of brackets is fine and a "]" in a string cannot hide a deep nesting
    if text.count("[") + text.count("{") <= MAX_NESTING:  # too few to nest deeper
        return loads(text)
    depth = 0
    for bracket in BRACKET.findall(JSON_STRING.sub('""', text)):
        depth += 1 if bracket in "[{" else -1
        if depth > MAX_NESTING:
            raise BadRequest(400, f"body nests deeper than {MAX_NESTING} levels")
    return loads(text)


def loads(text: str) -> object:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise BadRequest(400, "body is not valid JSON") from None


def check_text(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise BadRequest(422, f"{where}: must be a string, got {type(value).__name__}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest(422, f"{where}: not valid Unicode (a lone surrogate)") from None
    return value


def parse_request(body: bytes, settings: CheckpointSettings, max_batch: int) -> Request:
    """The texts to classify and how to answer; BadRequest with the status and one line."""
    data = parse_json(body)
    if not isinstance(data, dict):
        raise BadRequest(422, f"body: must be a JSON object, got {type(data).__name__}")
    shapes = [key for key in ("texts", "records", "inputs") if key in data]
    unknown = sorted(set(data) - {"texts", "records", "inputs", "parameters"})
    if unknown:
        raise BadRequest(422, f"{unknown[0]}: unknown field (send texts, records or inputs)")
    if len(shapes) != 1:
        raise BadRequest(422, 'give one of "texts", "records" or "inputs"')
    shape, top_k, single = shapes[0], None, False
    if shape == "inputs":
        inputs, single = data["inputs"], isinstance(data["inputs"], str)
        texts = [check_text(inputs, "inputs")] if single else text_list(inputs, "inputs")
        top_k = parse_parameters(data.get("parameters"))
    else:
        if "parameters" in data:
            raise BadRequest(422, 'parameters: only with "inputs"')
        texts = text_list(data[shape], shape) if shape == "texts" else record_texts(data, settings)
    if not texts:
        raise BadRequest(422, "no texts: send at least one")
    if len(texts) > max_batch:
        raise BadRequest(413, f"batch of {len(texts)} texts; the limit is {max_batch}")
    return Request(texts, shape == "inputs", single, top_k)


def text_list(value: object, key: str) -> list[str]:
    if not isinstance(value, list):
        raise BadRequest(422, f"{key}: must be a list of strings, got {type(value).__name__}")
    return [check_text(item, f"{key}[{i}]") for i, item in enumerate(value)]


def record_texts(data: dict, settings: CheckpointSettings) -> list[str]:
    """Records joined into texts as the training text was (the checkpoint's text columns)."""
    records, columns = data["records"], settings.text_columns
    if not isinstance(records, list):
        raise BadRequest(422, f"records: must be a list of objects, got {type(records).__name__}")
    for i, record in enumerate(records):
        if not isinstance(record, dict):
            raise BadRequest(422, f"records[{i}]: must be an object, got {type(record).__name__}")
        for column in columns:
            if column not in record:
                raise BadRequest(
                    422, f"records[{i}]: no {column!r} (records need {', '.join(columns)})"
                )
            if record[column] is not None:
                check_text(record[column], f"records[{i}].{column}")
    if not records:
        return []
    frame = pd.DataFrame([{column: record[column] for column in columns} for record in records])
    return join_text(frame, columns, settings.clean_backslashes).tolist()


def parse_parameters(parameters: object) -> int | None:
    if parameters is None:
        return None
    if not isinstance(parameters, dict):
        raise BadRequest(422, "parameters: must be an object")
    unknown = sorted(set(parameters) - {"top_k", "function_to_apply"})
    if unknown:
        raise BadRequest(422, f"parameters.{unknown[0]}: not supported (top_k is)")
    function = parameters.get("function_to_apply")
    if function not in (None, "softmax", "sigmoid"):
        raise BadRequest(422, "parameters.function_to_apply: this model answers probabilities")
    top_k = parameters.get("top_k")
    if top_k is None:
        return None
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        raise BadRequest(422, f"parameters.top_k: must be a positive integer, got {top_k!r}")
    return top_k
