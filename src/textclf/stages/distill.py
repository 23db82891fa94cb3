"""Stage distill: models/trained (the teacher) -> models/student, a smaller model for serving
and scoring on CPUs, and metrics/student/ (its test results as metrics/transformer's, and in
test.json its paired difference from the teacher and the share of rows they agree on).

`distill.student`: none (the default: a marker, no model), static or transformer; see
docs/serving-cheaply.md."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from textclf.config.distill_params import DistillParams
from textclf.config.errors import ParamsError
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
from textclf.data.table import DataError
from textclf.distill.soft_labels import pool_texts, write_soft_labels
from textclf.distill.static_student import (
    HeadTraining,
    StaticScorer,
    distill_embeddings,
    save_static_student,
    train_head,
)
from textclf.distill.transformer_student import (
    check_layers,
    load_student_start,
    train_transformer_student,
)
from textclf.evaluate.comparison import compare, read_predictions
from textclf.evaluate.metrics import write_test_results
from textclf.ship.onnx_export import export_onnx, quantize_int8
from textclf.ship.student_card import student_card
from textclf.stages import run
from textclf.train.model import is_multi_label, load_classifier, require_checkpoint, torch_logits
from textclf.train.scoring import score_texts

NO_STUDENT = "No student: `distill.student` is none. See docs/serving-cheaply.md.\n"


@dataclass(frozen=True)
class Sections:
    """The params.yaml sections this stage reads (and so the only params code it runs)."""

    distill: DistillParams
    model: ModelParams
    tokenize: TokenizeParams
    train: TrainParams
    evaluate: EvaluateParams
    export: ExportParams


def check_pool(distill: DistillParams, settings: object) -> None:
    """The pool file readable, with the text columns: before anything is trained."""
    if not distill.pool:
        return
    try:
        next(pool_texts(distill.pool, settings, 1), None)
    except DataError as error:
        raise ParamsError(f"distill.pool: {error}") from None


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
        )
        student = work / "student"
        student.mkdir()
        config = teacher.config.to_dict()
        if distill.student == "static":
            static = distill_embeddings(TRAINED_DIR, distill.pca_dims)
            head = train_head(static, soft_labels, work, multi_label, head_training(distill))
            keys = ("id2label", "label2id", "problem_type", "textclf")
            kept = {k: config[k] for k in keys if k in config}
            kept["num_labels"] = len(schema.classes)
            save_static_student(student, static, head, kept, distill.hidden)
            probabilities = StaticScorer(student).probabilities(test["text"].tolist())
        else:
            model = load_student_start(TRAINED_DIR, distill, schema.classes, multi_label)
            model.config.textclf = settings.to_config()
            model = train_transformer_student(
                model,
                tokenizer,
                soft_labels,
                work,
                distill,
                params.train,
                params.tokenize.max_length,
            )
            model.save_pretrained(student)
            tokenizer.save_pretrained(student)
            export_student(model, student, params.export)
            probabilities = score_texts(
                torch_logits(model, evaluate.precision),
                tokenizer,
                settings,
                test["text"].tolist(),
                multi_label,
                evaluate.batch_size,
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
        summary = versus_teacher(results)
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


def head_training(distill: DistillParams) -> HeadTraining:
    return HeadTraining(
        epochs=distill.head_epochs,
        batch_size=distill.batch_size,
        learning_rate=distill.head_learning_rate,
        hidden=distill.hidden,
        temperature=distill.temperature,
        true_label_weight=distill.true_label_weight,
        seed=distill.seed,
    )


def versus_teacher(results: Path) -> dict:
    """The student's test.json under `results`, with the paired difference from the teacher
    (student minus teacher) and the share of test rows whose prediction they share."""
    teacher = read_predictions(TRANSFORMER_DIR / "predictions.csv", "teacher")
    student = read_predictions(results / "predictions.csv", "student")
    difference = compare([("teacher", teacher)], [("student", student)])
    agreement = float((teacher["predicted"] == student["predicted"]).mean())
    test = read_json(results / "test.json")
    test.update(agreement=round(agreement, 6), versus_teacher=difference)
    write_json(results / "test.json", test)
    return test


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
