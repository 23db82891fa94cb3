"""`data/prepared/schema.json`, the contract between prepare and the later stages: class names in
id order and how the text was built from a file's columns. Read and written here only."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textclf.config.data_params import DataParams
from textclf.config.files import read_json, write_json
from textclf.config.paths import SCHEMA_FILE
from textclf.data.formats import DataError

# the notebook's AG News columns, `data.text_columns`' default
DEFAULT_TEXT_COLUMNS = tuple(DataParams.__dataclass_fields__["text_columns"].default_factory())
# the schema keys a checkpoint keeps too (see textclf.data.checkpoint_settings), so that
# `predict` builds its input text from a file's columns as training did
TEXT_SETTINGS = ("text_columns", "clean_backslashes", "label_column", "columns", "label_separator")


@dataclass(frozen=True)
class Schema:
    classes: list[str]
    text_columns: list[str] = dataclasses.field(default_factory=lambda: [*DEFAULT_TEXT_COLUMNS])
    clean_backslashes: bool = DataParams.clean_backslashes
    label_column: str = DataParams.label_column
    columns: list[str] | None = None  # a header-less file's columns; None: it has a header
    multi_label: bool = DataParams.multi_label
    label_separator: str = DataParams.label_separator

    @classmethod
    def of(cls, data: DataParams, classes: list[str]) -> Schema:
        return cls(
            classes=classes,
            text_columns=data.text_columns,
            clean_backslashes=data.clean_backslashes,
            label_column=data.label_column,
            columns=None if data.header else data.columns,
            multi_label=data.multi_label,
            label_separator=data.label_separator,
        )

    def text_settings(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in TEXT_SETTINGS}


def from_mapping(cls: type, raw: dict[str, Any] | None) -> Any:
    """`cls` from a JSON object: missing keys get their defaults, unknown ones are ignored."""
    names = {field.name for field in dataclasses.fields(cls)}
    return cls(**{key: value for key, value in (raw or {}).items() if key in names})


def read_schema(path: Path = SCHEMA_FILE) -> Schema:
    if not path.is_file():
        raise DataError(f"{path}: file not found (run `dvc repro`, or `dvc pull`)")
    return from_mapping(Schema, read_json(path))


def write_schema(path: Path, schema: Schema) -> None:
    write_json(path, dataclasses.asdict(schema))
