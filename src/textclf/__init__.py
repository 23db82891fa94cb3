"""Fine-tune BERT-family models for text classification as a DVC pipeline."""
