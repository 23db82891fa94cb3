"""Repeated texts: exact duplicates inside a split, conflicting ones (the same text with
different labels), and near-duplicates between two splits, which leak the answer from train
into validation or test. Near means: equal after normalisation (case, punctuation,
whitespace; symbols such as "+", "$" or emoji count), or an estimated Jaccard similarity of
the texts' character 5-grams at or above a threshold, by MinHash locality-sensitive hashing
(datasketch), so that the cost grows with the rows, not with their pairs."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from datasketch import MinHash, MinHashLSH

# what normalisation drops: whitespace and Unicode punctuation, but not the punctuation that
# carries meaning in short texts ("C#", "5%", "@user"); symbols (C++, $5, emoji) always stay
MEANINGFUL = "#%&*@§"
PUNCTUATION = "".join(
    char
    for char in map(chr, range(0x10000))
    if unicodedata.category(char).startswith("P") and char not in MEANINGFUL
)
NOT_TEXT = re.compile(f"[\\s{re.escape(PUNCTUATION)}]+")
SHINGLE = 5  # characters: short texts (headlines) still have dozens of shingles
PERMUTATIONS = 128
SEED = 1  # MinHash's hash functions: fixed, so the same texts give the same pairs
LSH_MAX_THRESHOLD = 0.95  # above ~0.98, 128 permutations make fewer than 2 bands


def normalise(text: str) -> str:
    """Lower case, every run of punctuation and whitespace made one space; a text of nothing
    but those stays as it is (stripped), so that "!!!" and "???" are not one text."""
    normal = NOT_TEXT.sub(" ", text.lower()).strip()
    return normal or text.strip()


def word_count(text: str) -> int:
    """Words of a text: what stays between runs of whitespace and punctuation."""
    return len(NOT_TEXT.sub(" ", text).split())


def groups_of_equal(keys: Sequence) -> list[list[int]]:
    """Row indices sharing a key, each group in row order, groups by their first row."""
    rows: dict = defaultdict(list)
    for row, key in enumerate(keys):
        rows[key].append(row)
    return [group for group in rows.values() if len(group) > 1]


@dataclass(frozen=True)
class NearDuplicate:
    row: int  # in the split checked
    train_row: int  # its most similar train row
    similarity: float  # 1.0: equal after normalisation


def shingles(text: str) -> list[bytes]:
    normal = normalise(text)
    if len(normal) <= SHINGLE:
        return [normal.encode()]
    return sorted({normal[i : i + SHINGLE].encode() for i in range(len(normal) - SHINGLE + 1)})


def minhashes(texts: Sequence[str]) -> list[MinHash]:
    return MinHash.bulk([shingles(text) for text in texts], num_perm=PERMUTATIONS, seed=SEED)


def near_duplicates(
    train: Sequence[str], others: Sequence[str], threshold: float
) -> list[NearDuplicate]:
    """The rows of `others` with a train row equal after normalisation or at least `threshold`
    similar, each with its most similar train row (the first of equals), in row order."""
    equal = {}
    for row, text in enumerate(train):
        equal.setdefault(normalise(text), row)
    # candidates from a threshold datasketch can band (at most LSH_MAX_THRESHOLD), then
    # each candidate's own estimate against `threshold`
    index = MinHashLSH(threshold=min(threshold, LSH_MAX_THRESHOLD), num_perm=PERMUTATIONS)
    train_hashes = minhashes(train)
    with index.insertion_session() as session:
        for row, signature in enumerate(train_hashes):
            session.insert(row, signature, check_duplication=False)
    found = []
    for row, (text, signature) in enumerate(zip(others, minhashes(others), strict=True)):
        match = equal.get(normalise(text))
        if match is not None:
            found.append(NearDuplicate(row, match, 1.0))
            continue
        candidates = sorted(index.query(signature))
        scored = [(signature.jaccard(train_hashes[c]), -c) for c in candidates]
        best = max(scored, default=None)
        if best is not None and best[0] >= threshold:
            found.append(NearDuplicate(row, -best[1], round(best[0], 4)))
    return found
