"""The bottom layer: params.yaml as checked dataclasses, the `error:` family, atomic file
writes and downloads, and where the metrics files live. Imports nothing else of textclf."""
