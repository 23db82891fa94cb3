"""Stage package: models/trained + models/onnx + the metrics files -> models/model, the folder
to ship: the checkpoint, its ONNX export in `onnx/` and a model card (`README.md`) stating the
metrics of exactly this checkpoint. `predict`, `serve` and DVC's model registry
(`artifacts:` in dvc.yaml) use this folder."""

from __future__ import annotations

import shutil

from textclf.card import model_card
from textclf.data import read_schema
from textclf.files import atomic_path, read_json
from textclf.model import MODEL_DIR, TRAINED_DIR
from textclf.onnx_export import ONNX_DIR
from textclf.outputs import COMPARISON, DATA_REPORT, EXPORT_METRICS, TRANSFORMER_DIR
from textclf.params import load_params
from textclf.stages import run


def main() -> None:
    params = load_params()
    card = model_card(
        params,
        read_schema()["classes"],
        test=read_json(TRANSFORMER_DIR / "test.json"),
        data=read_json(DATA_REPORT),
        comparison=read_json(COMPARISON),
        export=read_json(EXPORT_METRICS),
    )
    with atomic_path(MODEL_DIR, directory=True) as output:
        shutil.copytree(TRAINED_DIR, output, dirs_exist_ok=True)
        shutil.copytree(ONNX_DIR, output / "onnx")
        card.save(output / "README.md")


if __name__ == "__main__":
    run(main)
