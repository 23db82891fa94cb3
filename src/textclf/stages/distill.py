"""Stage distill: models/trained (the teacher) -> models/student, a smaller model for serving
and scoring on CPUs, and metrics/student/ (its test results as metrics/transformer's, and in
test.json its paired difference from the teacher and the share of rows they agree on).

`distill.student`: static (the default), transformer, or none (a marker, no model); the students
are made in `textclf.distill`, see docs/serving-cheaply.md."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from textclf.config.distill_params import NO_STUDENT, DistillParams
from textclf.config.files import atomic_path, read_json, write_json, write_text
from textclf.config.model_params import ModelParams, TokenizeParams
from textclf.config.paths import (
    PREPARED_DIR,
    STUDENT_DIR,
    STUDENT_METRICS_DIR,
    TRAINED_DIR,
    TRANSFORMER_DIR,
)
from textclf.config.report_params import EvaluateParams, ExportParams
from textclf.config.sections import load_sections
from textclf.config.train_params import TrainParams
from textclf.data.checkpoint_settings import checkpoint_settings_of
from textclf.data.schema import read_schema
from textclf.data.text import model_inputs
from textclf.distill.agreement import with_teacher_comparison
from textclf.distill.soft_labels import check_pool, write_soft_labels
from textclf.distill.students import make_static, make_transformer
from textclf.distill.transformer_student import check_layers, check_student_model
from textclf.evaluate.metrics import write_test_results
from textclf.evaluate.scoring import score_texts
from textclf.modeling.inference import is_multi_label, torch_logits
from textclf.modeling.loading import load_classifier, require_checkpoint
from textclf.ship.onnx_export import export_onnx, quantize_int8
from textclf.ship.student_card import student_card
from textclf.stages import run


@dataclass(frozen=True)
class Sections:
    """The params.yaml sections this stage reads (and so the only params code it runs)."""

    distill: DistillParams
    model: ModelParams
    tokenize: TokenizeParams
    train: TrainParams
    evaluate: EvaluateParams
    export: ExportParams


def main() -> None:
    params = load_sections(Sections)
    distill = params.distill
    if distill.student == "none":
        with atomic_path(STUDENT_DIR, directory=True) as output:
            write_text(output / "README.md", NO_STUDENT)
        with atomic_path(STUDENT_METRICS_DIR, directory=True) as output:
            write_json(output / "test.json", {"student": "none"})
            write_json(output / "headline.json", {})
        print(NO_STUDENT.strip())
        return
    schema = read_schema()
    # every check before the teacher loads: a bad value is one line, not after minutes
    teacher_config = read_json(require_checkpoint(TRAINED_DIR) / "config.json")
    settings = checkpoint_settings_of(teacher_config)
    check_pool(distill, settings)
    if distill.student == "transformer" and not distill.model:
        check_layers(teacher_config.get("num_hidden_layers", 0), distill.layers)
    if distill.student == "transformer" and distill.model:
        check_student_model(distill.model, TRAINED_DIR)
    teacher, tokenizer = load_classifier(TRAINED_DIR)
    multi_label = is_multi_label(teacher.config)
    test = pd.read_parquet(PREPARED_DIR / "test.parquet")
    evaluate = params.evaluate
    with tempfile.TemporaryDirectory(prefix="textclf-distill-") as scratch:
        work = Path(scratch)
        soft_labels = work / "soft_labels.parquet"
        counts = write_soft_labels(
            soft_labels,
            teacher,
            tokenizer,
            settings,
            len(schema.classes),
            distill.pool,
            distill.max_pool_rows,
            evaluate.precision,
            evaluate.batch_size,
            frozenset(model_inputs(test["text"].tolist(), settings.clean_backslashes)),
        )
        student = work / "student"
        student.mkdir()
        texts = test["text"].tolist()
        if distill.student == "static":
            probabilities = make_static(
                TRAINED_DIR, teacher.config, distill, soft_labels, student, texts
            )
        else:
            probabilities = transformer_student(
                params, teacher.config, tokenizer, soft_labels, student, texts
            )
        results = work / "metrics"
        write_test_results(
            results,
            test["text"],
            test["label"].tolist(),
            probabilities,
            schema.classes,
            evaluate.mistakes_per_class,
            multi_label=multi_label,
            threshold=settings.decision_threshold,
            separator=schema.label_separator,
            notes={"student": distill.student, **counts},
        )
        summary = with_teacher_comparison(results, TRANSFORMER_DIR / "predictions.csv")
        teacher_test = read_json(TRANSFORMER_DIR / "test.json")
        card = student_card(
            distill.student, params.model.name, schema.classes, summary, teacher_test
        )
        card.save(student / "README.md")
        with atomic_path(STUDENT_DIR, directory=True) as output:
            shutil.copytree(student, output, dirs_exist_ok=True)
        with atomic_path(STUDENT_METRICS_DIR, directory=True) as output:
            shutil.copytree(results, output, dirs_exist_ok=True)
    print(
        f"{distill.student} student: test accuracy {summary['accuracy']:.4f} "
        f"({summary['accuracy_low']:.4f} - {summary['accuracy_high']:.4f}), teacher "
        f"{teacher_test['accuracy']:.4f}; they agree on {summary['agreement']:.1%} of the rows "
        f"-> {STUDENT_DIR}"
    )


def transformer_student(
    params: Sections,
    config: object,
    tokenizer: object,
    soft_labels: Path,
    folder: Path,
    test: list[str],
) -> np.ndarray:
    """The transformer student in `folder`, with its ONNX export; its probabilities on `test`."""
    model = make_transformer(
        TRAINED_DIR,
        config,
        tokenizer,
        params.distill,
        params.train,
        params.tokenize.max_length,
        soft_labels,
        folder,
    )
    export_student(model, folder, params.export)
    logits = torch_logits(model, params.evaluate.precision)
    settings = checkpoint_settings_of(config)
    return score_texts(
        logits, tokenizer, settings, test, is_multi_label(config), params.evaluate.batch_size
    )


def export_student(model: object, folder: Path, export: ExportParams) -> None:
    """The transformer student in ONNX beside it, as the package stage ships the teacher."""
    model = model.cpu()
    (folder / "onnx").mkdir()
    print(f"Exporting the student to ONNX (opset {export.opset})", flush=True)
    export_onnx(model, folder / "onnx" / "model.onnx", export.opset)
    if export.quantize:
        quantize_int8(folder / "onnx" / "model.onnx", folder / "onnx" / "model_quantized.onnx")


if __name__ == "__main__":
    run(main)
