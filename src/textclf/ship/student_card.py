"""The student's model card: `models/student/README.md`, in the Hugging Face Hub's format, saying
what it was distilled from and how it scores on the test split next to its teacher."""

from __future__ import annotations

from typing import Any

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from textclf.ship.card import public_model_name

KINDS = {
    "static": "static token vectors (model2vec) + a small head: no attention at prediction time",
    "transformer": "a smaller transformer (a `transformers` checkpoint, ONNX export in `onnx/`)",
}


def student_card(
    kind: str, teacher: str, classes: list[str], test: dict[str, Any], teacher_test: dict
) -> ModelCard:
    """The card of a `kind` student of `teacher` (its model.name: named if a hub id), from its
    test.json (with the `versus_teacher` entry) and the teacher's test.json."""
    versus = test["versus_teacher"]
    teacher = public_model_name(teacher) or "a BERT-family model"
    metadata = ModelCardData(
        library_name="model2vec" if kind == "static" else "transformers",
        pipeline_tag="text-classification",
        metrics=["accuracy", "f1"],
        tags=["text-classification", "dvc", "textclf", "distillation"],
        model_name=f"Student of {teacher}",
        eval_results=[
            EvalResult(
                task_type="text-classification",
                dataset_type="test",
                dataset_name="test split",
                dataset_split="test",
                metric_type=metric,
                metric_value=test[key],
            )
            for metric, key in (("accuracy", "accuracy"), ("f1", "f1_macro"))
        ],
    )
    rows = [
        "| model | accuracy | 95% interval | macro F1 | 95% interval |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, scores in (("student", test), ("teacher", teacher_test)):
        rows.append(
            f"| {name} | {scores['accuracy']:.4f} | {scores['accuracy_low']:.4f} - "
            f"{scores['accuracy_high']:.4f} | {scores['f1_macro']:.4f} | "
            f"{scores['f1_macro_low']:.4f} - {scores['f1_macro_high']:.4f} |"
        )
    body = f"""# Student of {teacher}

Distilled by this repository's `distill` stage from the fine-tuned {teacher} (the teacher,
`models/model`): {KINDS[kind]}. It learned the teacher's softened probabilities on the train
rows{" and an unlabelled pool" if test.get("pool_rows") else ""}. {len(classes)} classes:
{", ".join(classes)}.

## Results on the test split

{chr(10).join(rows)}

Student minus teacher on the same {versus["rows"]} test rows: {versus["accuracy_diff"]:+.4f}
accuracy (95% interval {versus["accuracy_diff_low"]:+.4f} to {versus["accuracy_diff_high"]:+.4f}).
The two agree on {test["agreement"]:.1%} of the rows.

## How to use

```bash
textclf predict --model models/student --input texts.csv --output predicted.csv
textclf serve --model models/student
```
"""
    return ModelCard(f"---\n{metadata.to_yaml()}\n---\n\n{body}")
