"""Running a shipped model folder (`models/model`) with PyTorch or ONNX Runtime behind one
interface, for `predict` and `serve`.

The package stage puts the ONNX export beside the checkpoint (`onnx/model.onnx`, and
`onnx/model_quantized.onnx` for int8), as on the Hugging Face Hub. `auto` takes ONNX Runtime
where it is installed and the folder has an export, PyTorch otherwise.
"""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from transformers import AutoConfig, AutoTokenizer, PreTrainedTokenizerBase

from textclf.config.errors import UserError
from textclf.config.files import read_json
from textclf.data.checkpoint_settings import CheckpointSettings, checkpoint_settings_of
from textclf.data.text import model_inputs
from textclf.distill.static_student import StaticScorer, is_static_student
from textclf.evaluate.scoring import score_texts
from textclf.modeling.inference import is_multi_label, torch_logits
from textclf.modeling.loading import CheckpointError, load_classifier, require_checkpoint

RUNTIMES = ("auto", "torch", "onnx", "onnx-int8")
ONNX_FILES = {"onnx": Path("onnx/model.onnx"), "onnx-int8": Path("onnx/model_quantized.onnx")}


def checkpoint_settings(model_dir: str | Path) -> CheckpointSettings:
    """How the checkpoint's training text was built and cut (`textclf` in its config.json)."""
    folder = require_checkpoint(model_dir)
    with loading(folder):
        return checkpoint_settings_of(model_config(folder))


def model_config(folder: Path) -> dict:
    config = read_json(folder / "config.json")
    if not isinstance(config, dict):
        raise ValueError(f"config.json holds a {type(config).__name__}, not an object")
    return config


@contextlib.contextmanager
def loading(folder: Path) -> Iterator[None]:
    """Any failure to read a model folder (a corrupt config.json, weights, tokenizer or ONNX
    file; a folder made by hand or by another tool) as one CheckpointError naming it."""
    try:
        yield
    except UserError:
        raise
    except Exception as error:  # noqa: BLE001 - the folder's contents are input, not our code
        reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise CheckpointError(
            f"{folder}: not a model folder textclf can load ({type(error).__name__}"
            f"{': ' + reason[:200] if reason else ''})"
        ) from None


def onnx_runtime_installed() -> bool:
    return importlib.util.find_spec("onnxruntime") is not None


def onnx_session(path: str | Path) -> object:
    """An ONNX Runtime CPU session with every graph optimization on."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only: no warnings about unused initializers
    return onnxruntime.InferenceSession(
        str(path), sess_options=options, providers=["CPUExecutionProvider"]
    )


def onnx_logits(session: object) -> Callable[[dict[str, np.ndarray]], np.ndarray]:
    """An ONNX Runtime session as a batch function (see
    `textclf.modeling.inference.batched_logits`)."""
    names = {entry.name for entry in session.get_inputs()}

    def logits(batch: dict[str, np.ndarray]) -> np.ndarray:
        return session.run(["logits"], {k: v for k, v in batch.items() if k in names})[0]

    return logits


@dataclass
class Classifier:
    """A model folder loaded once: `probabilities(texts)` with the chosen runtime, long texts
    cut as in training, and `decisions` of those probabilities."""

    runtime: str
    classes: list[str]
    tokenizer: PreTrainedTokenizerBase | None  # None for a static student
    model: object  # a PreTrainedModel, an ONNX Runtime session or a StaticScorer
    settings: CheckpointSettings
    multi_label: bool = False

    def probabilities(
        self,
        texts: Sequence[str],
        batch_size: int = 64,
        progress: bool = False,
        precision: str = "auto",
    ) -> np.ndarray:
        """One row per text: class probabilities (multi-label: one sigmoid per label)."""
        if self.runtime == "static":
            return self.model.probabilities(model_inputs(texts, self.settings.clean_backslashes))
        logits = (
            torch_logits(self.model, precision)
            if self.runtime == "torch"
            else onnx_logits(self.model)
        )
        return score_texts(
            logits, self.tokenizer, self.settings, texts, self.multi_label, batch_size, progress
        )

    def decisions(self, probabilities: np.ndarray) -> list[list[str]]:
        """The predicted labels of each row: the most probable class, or for a multi-label
        model every label at or above the threshold (possibly none)."""
        if not self.multi_label:
            return [[self.classes[i]] for i in probabilities.argmax(axis=1)]
        chosen = probabilities >= self.settings.decision_threshold
        return [[c for c, on in zip(self.classes, row, strict=True) if on] for row in chosen]


def load(model_dir: str | Path, runtime: str = "auto") -> Classifier:
    """The model folder with `runtime`: `torch`, `onnx`, `onnx-int8` or `auto` (ONNX Runtime
    when installed and exported, else PyTorch). CheckpointError if the folder cannot serve it."""
    folder = require_checkpoint(model_dir)
    with loading(folder):
        model_config(folder)  # an object, before anything reads a key of it
        if is_static_student(folder):
            return load_static(folder, runtime)
        return load_transformer(folder, runtime)


def load_transformer(folder: Path, runtime: str) -> Classifier:
    if runtime == "auto":
        exported = (folder / ONNX_FILES["onnx"]).is_file()
        runtime = "onnx" if exported and onnx_runtime_installed() else "torch"
    if runtime == "torch":
        model, tokenizer = load_classifier(folder)
        config = model.config
    else:
        path = folder / ONNX_FILES[runtime]
        if not path.is_file():
            raise CheckpointError(f"{folder}: no {ONNX_FILES[runtime]} (run `dvc repro package`)")
        if not onnx_runtime_installed():
            raise CheckpointError("--runtime onnx needs ONNX Runtime: pip install onnxruntime")
        model = onnx_session(path)
        tokenizer = AutoTokenizer.from_pretrained(folder)
        config = AutoConfig.from_pretrained(folder)
    classes = [config.id2label[i] for i in range(config.num_labels)]
    return Classifier(
        runtime,
        classes,
        tokenizer,
        model,
        checkpoint_settings_of(config),
        is_multi_label(config),
    )


def load_static(folder: Path, runtime: str) -> Classifier:
    """A static student folder (see `textclf.distill.static_student`): NumPy, no runtime."""
    if runtime != "auto":
        raise CheckpointError(
            f"{folder} is a static student: it runs without --runtime {runtime} (leave it auto)"
        )
    try:
        scorer = StaticScorer(folder)
    except (OSError, KeyError, ValueError, RuntimeError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CheckpointError(f"{folder}: incomplete static student ({reason})") from None
    config = scorer.config
    classes = [config["id2label"][str(i)] for i in range(int(config["num_labels"]))]
    return Classifier(
        "static", classes, None, scorer, checkpoint_settings_of(config), scorer.multi_label
    )
