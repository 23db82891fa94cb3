"""params.yaml's `data` and `prepare` sections: which files, which columns, how to split."""

from __future__ import annotations

from dataclasses import dataclass, field

from textclf.config.checks import check_positive, check_seed
from textclf.config.errors import ParamsError
from textclf.config.typed_yaml import short

DATA_FORMATS = ("auto", "csv", "tsv", "jsonl", "parquet")
# the notebook's AG News train file (params.yaml's default) and the dataset's Hugging Face id
AG_NEWS_TRAIN_URL = (
    "https://raw.githubusercontent.com/mhjabreel/CharCnn_Keras/master/data/ag_news_csv/train.csv"
)
AG_NEWS_TEST_URL = AG_NEWS_TRAIN_URL.removesuffix("train.csv") + "test.csv"
AG_NEWS_CLASSES = ["World", "Sports", "Business", "Sci/Tech"]
AG_NEWS_HUB_ID = "fancyzhx/ag_news"


@dataclass(frozen=True)
class DataParams:
    train_url: str
    test_url: str
    classes: list[str] | None
    validation_url: str | None = None
    format: str = "auto"
    header: bool = False
    columns: list[str] | None = field(default_factory=lambda: ["label", "title", "description"])
    text_columns: list[str] = field(default_factory=lambda: ["title", "description"])
    label_column: str = "label"
    label_offset: int = 1
    clean_backslashes: bool = True
    multi_label: bool = False
    label_separator: str = "|"

    def check(self) -> None:
        if not self.label_separator or self.label_separator.strip() != self.label_separator:
            raise ParamsError(
                f"data.label_separator must be a non-blank string without surrounding spaces, "
                f"got {short(self.label_separator)}"
            )
        if self.format not in DATA_FORMATS:
            raise ParamsError(
                f"data.format must be one of {', '.join(DATA_FORMATS)}, got {short(self.format)}"
            )
        if self.classes is not None:
            if len(self.classes) < 2:
                raise ParamsError(
                    f"data.classes must list at least two class names, got {short(self.classes)}"
                )
            repeated = sorted({name for name in self.classes if self.classes.count(name) > 1})
            if repeated:
                raise ParamsError(f"data.classes must be unique, repeated: {', '.join(repeated)}")
        if not self.text_columns:
            raise ParamsError("data.text_columns must name at least one column")
        for key in ("text_columns", "columns"):
            names = getattr(self, key)
            if names is None:
                continue
            blank = [name for name in names if not name.strip()]
            if blank:
                raise ParamsError(f"data.{key} must not hold an empty column name")
            repeated = sorted({name for name in names if names.count(name) > 1})
            if repeated:
                raise ParamsError(f"data.{key} names a column twice: {', '.join(repeated)}")
        if not self.label_column.strip():
            raise ParamsError("data.label_column must name a column, got ''")
        if not self.header and self.delimited():
            if not self.columns:
                raise ParamsError(
                    "data.columns must name the columns of a header-less file (or set "
                    "data.header: true)"
                )
            missing = [c for c in [*self.text_columns, self.label_column] if c not in self.columns]
            if missing:
                raise ParamsError(
                    f"data.columns has no {missing[0]!r} (data.text_columns and data.label_column "
                    "must be among the columns of a header-less file)"
                )
        if self.label_column in self.text_columns:
            raise ParamsError(
                f"data.label_column {self.label_column!r} is also in data.text_columns"
            )

    def delimited(self) -> bool:
        """A CSV/TSV train file, whose `columns` name a header-less file's columns."""
        if self.format != "auto":
            return self.format in ("csv", "tsv")
        name = self.train_url.split("?")[0].lower().removesuffix(".gz")
        return name.endswith((".csv", ".tsv"))


@dataclass(frozen=True)
class PrepareParams:
    validation_size: float = 0.1
    seed: int = 1122
    max_train_rows: int | None = None
    max_validation_rows: int | None = None
    max_test_rows: int | None = None

    def check(self) -> None:
        if not 0 < self.validation_size < 1:
            raise ParamsError(
                f"prepare.validation_size must be between 0 and 1 (exclusive), "
                f"got {self.validation_size}"
            )
        check_seed("prepare.seed", self.seed)
        for name in ("max_train_rows", "max_validation_rows", "max_test_rows"):
            check_positive(f"prepare.{name}", getattr(self, name), allow_none=True)
