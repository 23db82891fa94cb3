"""Fine-tuning the static student's token vectors: after its head has learned on the frozen
vectors, vectors and head learn together on the same soft labels for `distill.tune_epochs`
passes. The distilled vectors are the teacher's encoder on each token alone, without context;
tuning moves the tokens that matter for these classes. The student stays a StaticModel (its
vectors replaced), so prediction costs the same.

The rows' token ids are written once to disk-backed arrays under the work folder: memory
stays one batch whatever the pool's size."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import torch
import torch.nn.functional as F
from torch import nn

from textclf.distill.epochs import EpochSettings, train_epochs

TOKENIZE_BATCH = 10_000


class BagOfVectors(nn.Module):
    """A text's mean token vector (normalised if the StaticModel normalises), then the head:
    the static student's prediction, with its vectors trainable."""

    def __init__(self, vectors: np.ndarray, head: nn.Module, normalize: bool):
        super().__init__()
        weights = torch.from_numpy(np.asarray(vectors, dtype=np.float32))
        # sparse gradients: a batch updates only the vectors of its own tokens
        self.bag = nn.EmbeddingBag.from_pretrained(weights, freeze=False, mode="mean", sparse=True)
        self.head = head
        self.normalize = normalize

    def forward(self, ids: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        features = self.bag(ids, offsets)
        if self.normalize:
            features = F.normalize(features, dim=-1)
        return self.head(features)


def token_ids_on_disk(static: object, soft_labels: Path, work: Path) -> tuple[np.ndarray, ...]:
    """Every row's token ids (as the StaticModel tokenizes them) in one flat array, with each
    row's start and length; all three disk-backed."""
    table = pq.ParquetFile(soft_labels)
    rows = table.metadata.num_rows
    lengths = np.lib.format.open_memmap(work / "lengths.npy", "w+", np.int64, (rows,))
    start = 0
    with (work / "ids.bin").open("wb") as flat:
        for batch in table.iter_batches(batch_size=TOKENIZE_BATCH, columns=["text"]):
            ids = static.tokenize(batch.column("text").to_pylist())
            lengths[start : start + len(ids)] = [len(row) for row in ids]
            for row in ids:
                flat.write(np.asarray(row, dtype=np.int64).tobytes())
            start += len(ids)
    total = int(lengths.sum())
    ids = np.memmap(work / "ids.bin", np.int64, "r", shape=(total,)) if total else np.zeros(0)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]) if rows else np.zeros(0, np.int64)
    return ids, starts, lengths


def tune_vectors(
    static: object,
    head: nn.Module,
    soft_labels: Path,
    work: Path,
    multi_label: bool,
    tuning: EpochSettings,
) -> None:
    """Train `static`'s vectors and `head` together; `static.embedding` is replaced. The
    targets are the arrays `train_head` left in `work`."""
    ids, starts, lengths = token_ids_on_disk(static, soft_labels, work)
    targets = {
        name: np.load(work / f"{name}.npy", mmap_mode="r")
        for name in ("teacher", "truth", "labelled")
    }
    torch.manual_seed(tuning.seed)
    model = BagOfVectors(static.embedding, head, bool(static.normalize)).train()
    vectors = torch.optim.SparseAdam(model.bag.parameters(), lr=tuning.learning_rate)
    classifier = torch.optim.AdamW(model.head.parameters(), lr=tuning.learning_rate)

    def logits_of(picked: np.ndarray) -> torch.Tensor:
        pieces = [ids[starts[row] : starts[row] + lengths[row]] for row in picked]
        offsets = np.concatenate([[0], np.cumsum([len(piece) for piece in pieces])[:-1]])
        flat = np.concatenate(pieces) if pieces else np.zeros(0, np.int64)
        return model(torch.from_numpy(flat.astype(np.int64)), torch.from_numpy(offsets))

    train_epochs(logits_of, targets, [vectors, classifier], multi_label, tuning, "tune")
    model.eval()
    static.embedding = model.bag.weight.detach().numpy().astype(static.embedding.dtype)
