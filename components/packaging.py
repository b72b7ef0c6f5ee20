"""What the consumers' functions run: the handler code archive and the dependency layers."""

from __future__ import annotations

import os
from pathlib import Path

import pulumi

from settings.load import ROOT, ConfigError

# Lambda loads `handlers.<name>.handler`; the handlers read event schemas from `schemas/`.
PACKAGED = {"handlers": "*.py", "schemas": "*.json"}


def handler_code() -> pulumi.AssetArchive:
    """Only source files: no caches, tests or requirements, so the hash changes with the code."""
    assets: dict[str, pulumi.Asset | pulumi.Archive] = {}
    for folder, pattern in PACKAGED.items():
        for path in sorted((ROOT / folder).rglob(pattern)):
            if "__pycache__" not in path.parts:
                assets[path.relative_to(ROOT).as_posix()] = pulumi.FileAsset(str(path))
    return pulumi.AssetArchive(assets)


def layer_dir(architecture: str) -> Path:
    """`make layer` installs handlers/requirements.txt for each architecture under build/."""
    build = Path(os.environ.get("EDA_BUILD_DIR", ROOT / "build"))
    path = build / f"layer-{architecture}"
    if not path.is_dir():
        raise ConfigError(
            f"dependency layer {path} is missing: run `make layer` before `pulumi preview/up` "
            f"(it installs handlers/requirements.txt for {architecture})"
        )
    return path
