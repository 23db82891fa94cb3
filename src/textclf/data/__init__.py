"""Data: reading labelled files in any supported format, labels to class ids, the splits, the
model's input text, prepared and tokenized tables. Imports only `textclf.config`."""
