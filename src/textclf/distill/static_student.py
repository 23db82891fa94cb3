"""The static student: the teacher's fine-tuned encoder turned into one vector per token
(model2vec's distillation: each token through the encoder once, PCA, SIF weighting), a text
the mean of its tokens' vectors, and a small head (linear, or one hidden layer) trained on the
teacher's softened probabilities. No attention at prediction time: hundreds of times less
arithmetic than the teacher.

The folder: `config.json` (classes, the teacher's text settings, this kind), `static/` (the
StaticModel as model2vec saves it) and `head.safetensors`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import torch
from safetensors.numpy import load_file as load_numpy
from safetensors.torch import save_file
from torch import nn

from textclf.config.files import read_json, write_json
from textclf.distill.epochs import EpochSettings, train_epochs
from textclf.modeling.inference import to_probabilities

STATIC_MODEL_TYPE = "textclf-static"
EMBEDDINGS_DIR = "static"
HEAD_FILE = "head.safetensors"
ENCODE_BATCH = 10_000  # rows embedded at a time while building the training features


class Head(nn.Module):
    """Mean token vector -> class logits: linear, or `hidden` ReLU units first."""

    def __init__(self, dims: int, n_classes: int, hidden: int = 0):
        super().__init__()
        if hidden:
            self.layers = nn.Sequential(
                nn.Linear(dims, hidden), nn.ReLU(), nn.Linear(hidden, n_classes)
            )
        else:
            self.layers = nn.Sequential(nn.Linear(dims, n_classes))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.layers(features)


def distill_embeddings(teacher_dir: Path, pca_dims: int) -> object:
    """A model2vec StaticModel from the teacher's encoder (its classification head unused)."""
    from model2vec.distill import distill_from_model
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # the unused head's weights are expected, not news
    try:
        encoder = AutoModel.from_pretrained(teacher_dir, use_safetensors=True)
    finally:
        hf_logging.set_verbosity(verbosity)
    tokenizer = AutoTokenizer.from_pretrained(teacher_dir)
    dims = min(pca_dims, encoder.config.hidden_size)
    print(f"Distilling static token vectors ({dims} dimensions) from {teacher_dir}", flush=True)
    return distill_from_model(encoder, tokenizer, pca_dims=dims, device="cpu")


def embed(static: object, texts: Sequence[str]) -> np.ndarray:
    """Each text's mean token vector (every token: a long text is not cut)."""
    if not texts:
        return np.zeros((0, static.embedding.shape[1]), dtype=np.float32)
    vectors = static.encode(
        list(texts), max_length=None, use_multiprocessing=False, batch_size=ENCODE_BATCH
    )
    return np.asarray(vectors, dtype=np.float32)


def train_head(
    static: object,
    soft_labels: Path,
    work: Path,
    multi_label: bool,
    training: EpochSettings,
    hidden: int,
) -> Head:
    """A head (`hidden` units, 0: linear) trained on every row of `soft_labels`; the features
    are built once into disk-backed arrays under `work`, so memory stays one batch whatever
    the rows."""
    table = pq.ParquetFile(soft_labels)
    rows = table.metadata.num_rows
    n_classes = table.schema_arrow.field("teacher").type.list_size
    dims = embed(static, [""]).shape[1]

    def on_disk(name: str, dtype: type, *shape: int) -> np.ndarray:
        return np.lib.format.open_memmap(work / f"{name}.npy", "w+", dtype, (rows, *shape))

    arrays = {
        "features": on_disk("features", np.float32, dims),
        "teacher": on_disk("teacher", np.float32, n_classes),
        "truth": on_disk("truth", np.float32, n_classes),
        "labelled": on_disk("labelled", np.bool_),
    }
    start = 0
    for batch in table.iter_batches(batch_size=ENCODE_BATCH):
        end = start + batch.num_rows
        arrays["features"][start:end] = embed(static, batch.column("text").to_pylist())
        for name in ("teacher", "truth"):
            flat = batch.column(name).flatten().to_numpy(zero_copy_only=False)
            arrays[name][start:end] = flat.reshape(-1, n_classes)
        arrays["labelled"][start:end] = batch.column("labelled").to_numpy(zero_copy_only=False)
        start = end
    torch.manual_seed(training.seed)
    head = Head(dims, n_classes, hidden)
    optimizer = torch.optim.AdamW(head.parameters(), lr=training.learning_rate)

    def logits_of(picked: np.ndarray) -> torch.Tensor:
        return head(torch.from_numpy(np.asarray(arrays["features"][picked])))

    targets = {name: arrays[name] for name in ("teacher", "truth", "labelled")}
    train_epochs(logits_of, targets, [optimizer], multi_label, training, "head")
    return head.eval()


def save_static_student(
    folder: Path, static: object, head: Head, config: dict, hidden: int
) -> None:
    """The student folder; `config` holds the classes and text settings (the teacher's)."""
    static.save_pretrained(folder / EMBEDDINGS_DIR)
    save_file({k: v.contiguous() for k, v in head.state_dict().items()}, folder / HEAD_FILE)
    write_json(
        folder / "config.json", {**config, "model_type": STATIC_MODEL_TYPE, "hidden": hidden}
    )


def is_static_student(folder: Path) -> bool:
    config = folder / "config.json"
    return config.is_file() and read_json(config).get("model_type") == STATIC_MODEL_TYPE


class StaticScorer:
    """A static student folder loaded for prediction: texts -> probabilities, in NumPy only
    (the head's few matrix products cost microseconds; through torch they cost more than the
    rest of a one-text request)."""

    def __init__(self, folder: Path):
        from model2vec import StaticModel

        self.config = read_json(folder / "config.json")  # classes and text settings too
        vectors = folder / EMBEDDINGS_DIR
        # model2vec takes a path that is not a folder for a Hub repo id: a local folder is only
        # ever read locally
        if not vectors.is_dir():
            raise FileNotFoundError(f"no {EMBEDDINGS_DIR}/ folder of token vectors")
        self.static = StaticModel.from_pretrained(vectors)
        self.layers = head_layers(
            load_numpy(folder / HEAD_FILE),
            dims=self.static.embedding.shape[1],
            hidden=int(self.config.get("hidden", 0)),
            classes=int(self.config["num_labels"]),
        )
        self.multi_label = self.config.get("problem_type") == "multi_label_classification"

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        features = embed(self.static, texts)
        for number, (weight, bias) in enumerate(self.layers):
            if number:
                features = np.maximum(features, 0)  # Head's ReLU between its two layers
            features = features @ weight + bias
        return to_probabilities(features, self.multi_label)


def head_layers(
    state: dict[str, np.ndarray], dims: int, hidden: int, classes: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Head's layers as (weight, bias) to multiply by, checked against the folder's config:
    ValueError if head.safetensors does not fit it."""
    names = ["layers.0", "layers.2"] if hidden else ["layers.0"]
    shapes = [(dims, hidden), (hidden, classes)] if hidden else [(dims, classes)]
    layers = []
    for name, (inputs, outputs) in zip(names, shapes, strict=True):
        weight, bias = state.get(f"{name}.weight"), state.get(f"{name}.bias")
        if weight is None or bias is None or weight.shape != (outputs, inputs):
            raise ValueError(
                f"{HEAD_FILE} does not hold a head of {dims} inputs, {hidden} hidden units and "
                f"{classes} classes"
            )
        layers.append((np.ascontiguousarray(weight.T, np.float32), bias.astype(np.float32)))
    return layers
