"""Stage quality_folds: with `quality.model: transformer`, data/tokenized -> data/quality/
out_of_fold.parquet, every train row's class probabilities from a fine-tune on the other folds
(textclf.quality.transformer_folds; one fine-tune per fold, resumed fold by fold after an
interruption). With `quality.model: baseline` the quality stage fits its folds itself in
seconds, and this stage writes the file with no rows, so that a train param change never
reruns the quality stage."""

from __future__ import annotations

import pandas as pd

from textclf.config.files import atomic_path
from textclf.config.paths import FOLD_DIR, OUT_OF_FOLD, PREPARED_DIR
from textclf.config.sections import load_sections
from textclf.data.schema import read_schema
from textclf.quality.out_of_fold import fold_of_rows, out_of_fold
from textclf.quality.transformer_folds import FoldSections, transformer_fold_model
from textclf.stages import run
from textclf.train.checkpoints import discard


def main() -> None:
    params = load_sections(FoldSections)
    quality, schema = params.quality, read_schema()
    classes, multi_label = schema.classes, schema.multi_label
    probabilities = pd.DataFrame(columns=classes, dtype="float64")
    if quality.model == "transformer":
        labels = pd.read_parquet(PREPARED_DIR / "train.parquet", columns=["label"])["label"]
        labels = labels.tolist()
        folds = fold_of_rows(labels, quality.folds, quality.seed, classes, multi_label)
        print(f"Out-of-fold probabilities: {quality.folds} fine-tunes of {params.model.name}")
        fold_model = transformer_fold_model(params, classes, labels, multi_label)
        probabilities = pd.DataFrame(out_of_fold(folds, len(classes), fold_model), columns=classes)
    with atomic_path(OUT_OF_FOLD) as temporary:
        probabilities.to_parquet(temporary, index=False)
    if quality.model == "transformer":
        discard(FOLD_DIR)  # the folds are in the output now


if __name__ == "__main__":
    run(main)
