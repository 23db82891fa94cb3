"""Models: loading tokenizers and models (hub id or local directory, safetensors only), the
device and precision they run at, and batched inference. Used by the data stages (the
tokenizer), evaluation, training, prediction and serving alike, so none of them needs the
trainer. Imports `config` and `data`."""
