"""Stage package: models/trained + models/onnx + the metrics files -> models/model, the folder
to ship: the checkpoint, its ONNX export in `onnx/` and a model card (`README.md`) stating the
metrics of exactly this checkpoint. `predict`, `serve` and DVC's model registry
(`artifacts:` in dvc.yaml) use this folder."""

from __future__ import annotations

import shutil

from textclf.config.files import atomic_path, read_json
from textclf.config.paths import (
    COMPARISON,
    DATA_REPORT,
    EXPORT_METRICS,
    MODEL_DIR,
    ONNX_DIR,
    TRAINED_DIR,
    TRANSFORMER_DIR,
)
from textclf.config.sections import load_sections
from textclf.data.schema import read_schema
from textclf.ship.card import CardSections, model_card
from textclf.stages import run


def main() -> None:
    params = load_sections(CardSections)
    print(f"Packaging {TRAINED_DIR} and {ONNX_DIR} into {MODEL_DIR}", flush=True)
    card = model_card(
        params,
        read_schema().classes,
        test=read_json(TRANSFORMER_DIR / "test.json"),
        data=read_json(DATA_REPORT),
        comparison=read_json(COMPARISON),
        export=read_json(EXPORT_METRICS),
    )
    with atomic_path(MODEL_DIR, directory=True) as output:
        shutil.copytree(TRAINED_DIR, output, dirs_exist_ok=True)
        shutil.copytree(ONNX_DIR, output / "onnx")
        card.save(output / "README.md")
    print(f"{MODEL_DIR}: the checkpoint, onnx/ and the model card (README.md)")


if __name__ == "__main__":
    run(main)
