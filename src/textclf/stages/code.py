"""Stage code: src/ -> code/<stage>.txt, the hashes of the modules each stage runs (see
`textclf.config.code_closure`). Every other stage depends on its own manifest, not on src/, so
dvc.yaml stays short and an edit reruns exactly the stages whose code it changes."""

from __future__ import annotations

from textclf.config.code_closure import PACKAGE, manifest
from textclf.config.files import atomic_path
from textclf.config.paths import CODE_DIR, SOURCE_DIR
from textclf.stages import run


def main() -> None:
    stages = sorted(
        path.stem
        for path in (SOURCE_DIR / PACKAGE / "stages").glob("*.py")
        if path.stem not in ("__init__", "code")
    )
    with atomic_path(CODE_DIR, directory=True) as output:
        for stage in stages:
            text = manifest(f"{PACKAGE}.stages.{stage}", SOURCE_DIR)
            (output / f"{stage}.txt").write_text(text, encoding="utf-8")
    print(f"{CODE_DIR}/: the code of {len(stages)} stages, hashed")


if __name__ == "__main__":
    run(main)
