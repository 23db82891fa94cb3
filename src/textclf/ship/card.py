"""The model card: `README.md` of the shipped model folder, in the Hugging Face Hub's format
(YAML metadata, then Markdown), written from the metrics files of exactly this checkpoint.

`huggingface_hub.ModelCard` builds and validates it, so `ModelCard.load` and the Hub read it;
the metadata's `model-index` carries the test accuracy and macro F1.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from textclf.config.data_params import AG_NEWS_HUB_ID, AG_NEWS_TRAIN_URL, DataParams
from textclf.config.model_params import ModelParams, TokenizeParams
from textclf.config.report_params import CardParams
from textclf.config.sources import is_hub_id
from textclf.config.train_params import TrainParams

INTENDED_USE = """\
Sorting texts like the training data's into the classes above: same language, same kind of
text (the training rows' columns, joined as described), similar length. The model always
answers with one of these classes, also for texts that belong to none of them; for such input,
or where a wrong class is costly, read the class probabilities (see Limits: calibration) and
route low-confidence texts to a person."""

LIMITS = """\
- The test metrics hold for texts drawn like the test split. Texts from other sources, times
  or languages can score much lower.
- The 95% intervals are bootstrap intervals over the test rows: a smaller test split gives a
  wider interval, and two models whose intervals overlap may not differ at all (compare them
  with `python -m textclf.compare`).
- Calibration: the expected calibration error (ECE) is the mean gap between the top
  probability and the accuracy of the texts given it; a probability is only as trustworthy as
  that gap allows.
- The model inherits the biases of its base model and of the training data."""


@dataclass(frozen=True)
class CardSections:
    """The params.yaml sections the model card reports."""

    data: DataParams
    model: ModelParams
    tokenize: TokenizeParams
    train: TrainParams
    card: CardParams


def public_model_name(name: str) -> str | None:
    """`model.name` as a card may show it: a hub id, or None for a local folder (its path means
    nothing to other readers, and may carry a home folder and a user name)."""
    on_hub = is_hub_id(name) and not Path(name).expanduser().is_dir()
    return name if on_hub else None


def model_card(
    params: CardSections,
    classes: list[str],
    test: dict[str, Any],
    data: dict[str, Any],
    comparison: dict[str, Any],
    export: dict[str, Any],
) -> ModelCard:
    """The card of a checkpoint trained with `params` on `classes`, from its metrics files:
    metrics/transformer/test.json, data.json, comparison.json and export.json."""
    card_params = params.card
    dataset_name, dataset_id = dataset_of(params)
    base_model = public_model_name(params.model.name)
    title = f"{base_model or 'BERT-family model'} fine-tuned on {dataset_name}"
    dataset_type = dataset_id or dataset_name
    metadata = ModelCardData(
        language=card_params.language,
        license=(card_params.license or "").strip() or None,  # empty: not stated
        library_name="transformers",
        pipeline_tag="text-classification",
        base_model=base_model,
        datasets=[dataset_id] if dataset_id else None,
        metrics=["accuracy", "f1"],
        tags=["text-classification", "dvc", "textclf"],
        model_name=title,
        eval_results=[
            EvalResult(
                task_type="text-classification",
                dataset_type=dataset_type,
                dataset_name=dataset_name,
                dataset_split="test",
                metric_type=metric,
                metric_name=name,
                metric_value=test[key],
                **({"metric_args": {"average": "macro"}} if metric == "f1" else {}),
            )
            for metric, name, key in (
                ("accuracy", "Accuracy", "accuracy"),
                ("f1", "Macro F1", "f1_macro"),
            )
        ],
    )
    body = "\n\n".join(
        [
            f"# {title}",
            _summary(params, classes, base_model),
            "## Results on the test split\n\n" + _results(test, data, comparison),
            "## Classes\n\n" + "\n".join(f"{i}. {name}" for i, name in enumerate(classes)),
            "## Training data\n\n" + _training_data(params, data),
            "## Training procedure\n\n" + _training_procedure(params),
            "## ONNX\n\n" + _onnx(export),
            "## How to use\n\n" + _usage(),
            "## Intended use\n\n" + INTENDED_USE,
            "## Limits\n\n" + LIMITS,
        ]
    )
    return ModelCard(f"---\n{metadata.to_yaml()}\n---\n\n{body}\n")


def _summary(params: CardSections, classes: list[str], base_model: str | None) -> str:
    base = f"[{base_model}](https://huggingface.co/{base_model})" if base_model else "a local model"
    return (
        f"A text classifier fine-tuned from {base} on {dataset_of(params)[0]} with this "
        f"repository's DVC pipeline: {len(classes)} classes, {_labels_per_text(params)}. "
        f"The folder is a `transformers` checkpoint (safetensors) with an ONNX export in `onnx/`."
    )


def _labels_per_text(params: CardSections) -> str:
    if params.data.multi_label:
        return (
            f"any number per text (multi-label: a sigmoid per class, predicted at "
            f"{params.train.threshold} or above; accuracy below is subset accuracy, the whole "
            f"label set right)"
        )
    return "one per text"


def _results(test: dict, data: dict, comparison: dict) -> str:
    rows = data["rows"]["test"]
    lines = [
        "| metric | value | 95% interval |",
        "| --- | --- | --- |",
        f"| accuracy | {test['accuracy']:.4f} | "
        f"{test['accuracy_low']:.4f} - {test['accuracy_high']:.4f} |",
        f"| macro F1 | {test['f1_macro']:.4f} | "
        f"{test['f1_macro_low']:.4f} - {test['f1_macro_high']:.4f} |",
        f"| {'binary ' if 'hamming_loss' in test else ''}cross-entropy loss | "
        f"{test['loss']:.4f} | |",
        f"| expected calibration error | {test['ece']:.4f} | |",
        f"| Brier score | {test['brier']:.4f} | |",
    ]
    baseline = (
        f"Against a TF-IDF + logistic regression baseline on the same rows (accuracy "
        f"{comparison['baseline_accuracy']:.4f}): {comparison['accuracy_diff']:+.4f} accuracy "
        f"(95% interval {comparison['accuracy_diff_low']:+.4f} to "
        f"{comparison['accuracy_diff_high']:+.4f}), McNemar p = {comparison['mcnemar_p']:.3g}."
    )
    return f"{rows} test rows.\n\n" + "\n".join(lines) + "\n\n" + baseline


def _training_data(params: CardSections, data: dict) -> str:
    rows = ", ".join(f"{count} {split}" for split, count in data["rows"].items())
    columns = " + ".join(params.data.text_columns)
    return (
        f"{dataset_of(params)[0]}: {rows} rows. Text: {columns} (joined with a space); "
        f"label column `{params.data.label_column}`. Rows per class: "
        + "; ".join(
            f"{split}: " + ", ".join(f"{name} {count}" for name, count in counts.items())
            for split, counts in data["rows_per_class"].items()
        )
        + "."
    )


def _training_procedure(params: CardSections) -> str:
    settings = {
        "tokenize.max_length": params.tokenize.max_length,
        **{f"train.{key}": value for key, value in asdict(params.train).items()},
    }
    lines = ["| param | value |", "| --- | --- |"]
    lines += [f"| `{key}` | `{value}` |" for key, value in settings.items()]
    return "Fine-tuned with `transformers.Trainer`; params (from `params.yaml`):\n\n" + "\n".join(
        lines
    )


def _onnx(export: dict) -> str:
    text = (
        f"`onnx/model.onnx` reproduces the PyTorch model on {export['rows']} validation rows "
        f"(largest logit difference {export['max_abs_logit_diff']:.2g}, same class on "
        f"{export['argmax_agreement']:.1%} of rows)."
    )
    if "int8_argmax_agreement" in export:
        text += (
            f" `onnx/model_quantized.onnx` (int8 weights, dynamic quantization) gives the same "
            f"class on {export['int8_argmax_agreement']:.1%} of them."
        )
    return text


def dataset_of(params: CardSections) -> tuple[str, str | None]:
    """What the card says the model was trained on: `card.dataset_name`/`dataset_id` when set,
    else AG News (and its Hub id) for the notebook's files, else the train file's name."""
    card, url = params.card, params.data.train_url
    if card.dataset_name:
        return card.dataset_name, card.dataset_id
    if url == AG_NEWS_TRAIN_URL:
        return "AG News", card.dataset_id or AG_NEWS_HUB_ID
    return Path(url.split("?")[0]).name or url, card.dataset_id


def _usage() -> str:
    return """\
```python
from transformers import pipeline

classify = pipeline("text-classification", model="models/model", top_k=None)
classify("Stocks rally as oil prices fall", truncation=True)  # longer texts: the first tokens
```

With ONNX Runtime, from this repository: `textclf predict --runtime onnx "Stocks rally"`, or as
a service: `textclf serve --model models/model`."""
