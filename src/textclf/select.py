"""What to label next: the rows of an unlabelled file the trained model is least sure about.

    textclf select --input pool.csv --count 200 --output to_label.csv
    textclf select --input pool.jsonl --count 200 --strategy entropy --diverse --output next.csv
    python -m textclf.select ...        (the same)

The pool is any file `predict` reads (CSV, TSV, JSON Lines, Parquet, optionally .gz; shaped
like the training data or with a `text` column), streamed chunk by chunk: memory holds one
chunk and the best rows so far, whatever the pool's size. The output keeps the input columns
and adds `predicted` (the model's guess), `probability` (of that guess) and the strategy's value
(`margin`: the gap between the two most probable classes, small is unsure; `entropy`: large is
unsure), most unsure first. `--diverse` takes the `--count` rows from the most unsure
`--candidates` x count by farthest-point selection in the model's embedding space, so that
annotators do not get twenty near-copies of one headline.
"""

from __future__ import annotations

import argparse
import heapq
import sys
from collections.abc import Sequence

import pandas as pd

from textclf.config.arguments import OneLineParser, positive_int
from textclf.config.errors import UserError
from textclf.config.paths import MODEL_DIR
from textclf.config.spreadsheet import for_people
from textclf.data.inputs import input_chunks, input_layout, input_texts
from textclf.data.outputs import check_output, write_table
from textclf.evaluate.uncertainty import STRATEGIES, scores, spread_out, unsure
from textclf.ship.runtime import RUNTIMES, Classifier, checkpoint_settings
from textclf.ship.runtime import load as load_runtime


def most_unsure(
    source: str,
    classifier: Classifier,
    count: int,
    strategy: str,
    batch_size: int = 64,
) -> tuple[pd.DataFrame, list[str]]:
    """The `count` most unsure rows of `source`, most unsure first, and their texts, streamed:
    a heap keeps the best rows seen so far (ties: the earlier row). Columns of the pool named
    like the ones select writes are replaced, and it says so."""
    settings = classifier.settings
    layout = input_layout(source, settings)
    best: list[tuple[float, int, dict, str]] = []
    seen = 0
    written = ("predicted", "probability", strategy)
    for table in input_chunks(source, layout):
        replaced = [column for column in written if column in table.frame.columns]
        if replaced and not seen:  # e.g. an earlier select's output as the pool, as predict says
            print(f"{source}: replacing its columns {', '.join(replaced)}", file=sys.stderr)
        texts = input_texts(table, settings)
        probabilities = classifier.probabilities(texts, batch_size)
        values = scores(
            probabilities, strategy, classifier.multi_label, classifier.settings.decision_threshold
        )
        separator = settings.label_separator
        guesses = classifier.decisions(probabilities)
        for row, (value, rank) in enumerate(zip(values, unsure(values, strategy), strict=True)):
            key = (float(rank), -(seen + row))
            if len(best) == count and key <= best[0][:2]:
                continue
            record = table.frame.iloc[row].drop(replaced).to_dict()
            guess = guesses[row]
            record["predicted"] = separator.join(guess)
            chosen = [classifier.classes.index(label) for label in guess]
            record["probability"] = round(
                float(probabilities[row, chosen].min() if chosen else probabilities[row].max()), 4
            )
            record[strategy] = round(float(value), 4)
            entry = (*key, record, texts[row])
            if len(best) < count:
                heapq.heappush(best, entry)
            else:
                heapq.heapreplace(best, entry)
        seen += len(texts)
        print(f"{seen} rows scored", file=sys.stderr, flush=True)
    ordered = sorted(best, key=lambda entry: entry[:2], reverse=True)
    return pd.DataFrame.from_records([record for *_, record, _ in ordered]), [
        text for *_, text in ordered
    ]


def select_rows(
    source: str,
    count: int,
    strategy: str = "margin",
    model: str = str(MODEL_DIR),
    runtime: str = "auto",
    diverse: bool = False,
    candidates: int = 5,
    batch_size: int = 64,
) -> pd.DataFrame:
    classifier = load_runtime(model, runtime)
    ranked, texts = most_unsure(
        source, classifier, count * candidates if diverse else count, strategy, batch_size
    )
    if diverse and len(ranked) > count:
        from textclf.ship.embeddings import text_embeddings

        keep = spread_out(text_embeddings(model, texts, loaded=classifier), count)
        ranked = ranked.iloc[keep].reset_index(drop=True)
    return ranked


def main(argv: Sequence[str] | None = None, prog: str = "textclf select") -> None:
    parser = OneLineParser(
        prog=prog, description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--input", required=True, help="the unlabelled pool: CSV, TSV, JSON Lines or Parquet"
    )
    parser.add_argument("--count", type=positive_int, required=True, help="rows to propose")
    parser.add_argument(
        "--output", help="where to write the rows to label, as CSV (default: stdout)"
    )
    parser.add_argument("--strategy", choices=STRATEGIES, default="margin")
    parser.add_argument(
        "--diverse", action="store_true", help="spread the rows over the embedding space"
    )
    parser.add_argument(
        "--candidates",
        type=positive_int,
        default=5,
        help="--diverse: choose among the most unsure CANDIDATES x count",
    )
    parser.add_argument("--model", default=str(MODEL_DIR), help="model folder")
    parser.add_argument("--runtime", choices=RUNTIMES, default="auto")
    parser.add_argument("--batch-size", type=positive_int, default=64)
    args = parser.parse_args(argv)
    try:
        if args.output:
            check_output(args.output, args.input, keeps_every_row=False)
        checkpoint_settings(args.model)  # a missing model folder is one line, before reading
        chosen = select_rows(
            args.input,
            args.count,
            args.strategy,
            args.model,
            args.runtime,
            args.diverse,
            args.candidates,
            args.batch_size,
        )
        if not args.output:
            for_people(chosen).to_csv(sys.stdout, index=False)
            return
        write_table(chosen, args.output)
    except UserError as error:
        raise SystemExit(f"error: {error}") from None
    print(f"{len(chosen)} rows to label -> {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
