"""The bench's bert-base-shaped model and the GPU's ceilings for it: the model FLOPs per
token, eager PyTorch's bare training step, and a measured bf16 matrix peak (used by
gpu_speed.py for its MFU figures)."""

from __future__ import annotations

import time

import torch
from transformers import BertConfig, BertForSequenceClassification

from textclf.modeling.device import inference_device

# dense bf16 tensor-core peaks from the vendor's data sheets (SXM parts)
DATASHEET_BF16_PEAK = {"H100": 989e12, "H200": 989e12, "A100": 312e12}


# --shape tiny: a 2-layer model, to try the script on a CPU in seconds
SHAPES = {
    "base": {},
    "tiny": dict(num_hidden_layers=2, hidden_size=64, num_attention_heads=2, intermediate_size=128),
}
SHAPE: dict = {}  # the shape in use: bert-base (the defaults) unless --shape says otherwise


def bert_base(vocab_size: int) -> BertForSequenceClassification:
    config = BertConfig(vocab_size=vocab_size, num_labels=4, **SHAPE)  # defaults: bert-base's
    return BertForSequenceClassification(config)


def flops_per_token(model: BertForSequenceClassification, mean_length: float) -> float:
    """Training FLOPs per token: 6 x non-embedding parameters plus attention's 12 x layers x
    hidden x sequence length (the usual model-FLOPs count, without recomputation)."""
    config = model.config
    embeddings = sum(p.numel() for n, p in model.named_parameters() if "embeddings" in n)
    dense = sum(p.numel() for p in model.parameters()) - embeddings
    return 6 * dense + 12 * config.num_hidden_layers * config.hidden_size * mean_length


def bare_step(vocab_size: int, length: int, dtype: torch.dtype | None, steps: int = 100) -> float:
    """Samples/s of forward + backward + fused AdamW on one fixed 24 x `length` batch, with no
    data loading, padding or Trainer: the ceiling of eager PyTorch for this model."""
    device = inference_device()
    model = bert_base(vocab_size).to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5, weight_decay=0.01, fused=True)
    ids = torch.randint(1000, 2000, (24, length), device=device)
    labels = torch.randint(0, 4, (24,), device=device)
    start = 0.0
    for step in range(steps + 20):
        if step == 20:
            torch.cuda.synchronize()
            start = time.perf_counter()
        with torch.autocast(device.type, dtype=dtype or torch.bfloat16, enabled=bool(dtype)):
            loss = model(input_ids=ids, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    torch.cuda.synchronize()
    return 24 * steps / (time.perf_counter() - start)


def measured_bf16_peak(size: int = 8192, repeats: int = 10) -> float:
    a = torch.randn(size, size, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(size, size, device="cuda", dtype=torch.bfloat16)
    for _ in range(3):
        a @ b
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    torch.cuda.synchronize()
    return 2 * size**3 * repeats / (time.perf_counter() - start)
