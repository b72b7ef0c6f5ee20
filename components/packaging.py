"""What the consumers' functions run: the handler code archive and the dependency layers.

Both reach Pulumi as archives, and Pulumi decides whether a function's code changed by the
archive's hash. For an AssetArchive or a directory FileArchive the engine hashes a tar it writes
itself, members in sorted name order, each header holding only name, a fixed mode (0600) and size:
no mtime, owner or permissions (pulumi/pulumi sdk/go/common/resource/archive/archive.go,
`EnsureHashWithWD` -> `addNextFileToTar`). The zip it uploads stamps every member 1990-01-01. So
the hash, and the redeploy, follow file names and bytes only: a fresh checkout or a rebuilt layer
with the same contents changes nothing. `offline/artifacts.py` keeps the contents the same.
"""

from __future__ import annotations

import os
from pathlib import Path

import pulumi

from settings.load import ROOT, ConfigError, schema_root


def packaged() -> dict[str, tuple[Path, str]]:
    """Archive folder -> (source folder, files): Lambda loads `handlers.<name>.handler`, and the
    handlers read event schemas from `schemas/` (the stack's schema tree, `schema_root`)."""
    return {"handlers": (ROOT / "handlers", "*.py"), "schemas": (schema_root(), "*.json")}


def code_files() -> dict[str, Path]:
    """Archive name -> source file. Only sources: no caches, tests or requirements, so the hash
    changes with the code and nothing else."""
    files = {}
    for folder, (source, pattern) in packaged().items():
        for path in sorted(source.rglob(pattern)):
            if "__pycache__" not in path.parts:
                files[f"{folder}/{path.relative_to(source).as_posix()}"] = path
    return files


def handler_code() -> pulumi.AssetArchive:
    return pulumi.AssetArchive(
        {name: pulumi.FileAsset(str(path)) for name, path in code_files().items()}
    )


def layer_path(architecture: str) -> Path:
    """Where `make layer` builds the layer for `architecture` (EDA_BUILD_DIR replaces build/)."""
    return Path(os.environ.get("EDA_BUILD_DIR", ROOT / "build")) / f"layer-{architecture}"


def layer_dir(architecture: str) -> Path:
    path = layer_path(architecture)
    if not path.is_dir():
        raise ConfigError(
            f"dependency layer {path} is missing: run `make layer` before `pulumi preview/up` "
            f"(it installs handlers/constraints.txt for {architecture})"
        )
    return path
