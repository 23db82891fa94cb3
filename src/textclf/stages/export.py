"""Stage export: models/trained -> models/onnx/ (model.onnx, and model_quantized.onnx with
`export.quantize`) and metrics/export.json: how closely each reproduces PyTorch's logits and
classes on `export.check_rows` validation rows. An fp32 export that predicts other classes
than PyTorch on more than 1% of them fails the stage."""

from __future__ import annotations

from dataclasses import dataclass

from textclf.config.files import atomic_path, write_json
from textclf.config.paths import EXPORT_METRICS, ONNX_DIR, TRAINED_DIR
from textclf.config.report_params import ExportParams
from textclf.config.sections import load_sections
from textclf.data.checkpoint_settings import checkpoint_settings_of
from textclf.data.tokenization import BATCH_ROWS
from textclf.data.tokenized import read_tokenized
from textclf.modeling.inference import is_multi_label
from textclf.modeling.loading import load_classifier
from textclf.ship.onnx_export import (
    MIN_AGREEMENT,
    ExportError,
    check_rows,
    export_onnx,
    parity,
    quantize_int8,
)
from textclf.stages import run


@dataclass(frozen=True)
class Sections:
    """The params.yaml sections this stage reads (and so the only params code it runs)."""

    export: ExportParams


def main() -> None:
    export = load_sections(Sections).export
    model, tokenizer = load_classifier(TRAINED_DIR)
    model = model.cpu()
    # validation rows are sorted by length in batches: one batch spans short to long texts
    validation = read_tokenized("validation", ["input_ids"], max_rows=BATCH_ROWS)
    rows = check_rows(validation.column("input_ids").to_pylist(), export.check_rows)
    threshold = (
        checkpoint_settings_of(model.config).decision_threshold
        if is_multi_label(model.config)
        else None
    )
    with atomic_path(ONNX_DIR, directory=True) as output:
        print(f"Exporting {TRAINED_DIR} to ONNX (opset {export.opset})", flush=True)
        export_onnx(model, output / "model.onnx", export.opset)
        print(f"Checking ONNX Runtime against PyTorch on {len(rows)} validation rows", flush=True)
        report = {
            "rows": len(rows),
            **parity(model, tokenizer, output / "model.onnx", rows, threshold),
        }
        if report["argmax_agreement"] < MIN_AGREEMENT:
            raise ExportError(
                f"the ONNX export predicts other classes than PyTorch on "
                f"{1 - report['argmax_agreement']:.1%} of {len(rows)} validation rows"
            )
        if export.quantize:
            print("Quantizing to int8 (onnx/model_quantized.onnx) and checking it", flush=True)
            quantize_int8(output / "model.onnx", output / "model_quantized.onnx")
            int8 = parity(model, tokenizer, output / "model_quantized.onnx", rows, threshold)
            report.update({f"int8_{key}": value for key, value in int8.items()})
    write_json(EXPORT_METRICS, report)
    print(f"ONNX gives PyTorch's class on {report['argmax_agreement']:.1%} of the rows")


if __name__ == "__main__":
    run(main)
