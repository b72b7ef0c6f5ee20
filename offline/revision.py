"""The program as it was at a git revision, run by that revision's own code.

`python -m offline STACK --diff REF` and `costmodel diff REF:STACK ...` compare the working tree
with another commit without a `git stash` dance: the revision is exported (`git archive`) into a
temporary folder and its own `python -m ...` runs there, with this interpreter.
"""

from __future__ import annotations

import inspect
import io
import json
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from settings.load import ROOT


class RevisionError(ValueError):
    """A git revision that cannot be read, or whose program fails for the stack."""


@contextmanager
def checkout(ref: str) -> Iterator[Path]:
    """A temporary copy of the repository's files at `ref`."""
    try:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", "--format=tar", ref],
            check=True, capture_output=True,
        ).stdout
    except FileNotFoundError:
        raise RevisionError("git is not installed: a revision cannot be read") from None
    except subprocess.CalledProcessError as error:
        raise RevisionError(
            f"{ref!r} is not a revision of this repository ({error.stderr.decode().strip()}); "
            "allowed: a commit, branch or tag, e.g. HEAD, main, HEAD~1"
        ) from None
    with tempfile.TemporaryDirectory(prefix="eda-revision-") as folder:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(folder, filter="data")
        yield Path(folder)


def run_json(ref: str, arguments: list[str]) -> Any:
    """`python <arguments>` at `ref`, its standard output parsed as JSON."""
    with checkout(ref) as folder:
        result = subprocess.run(
            [sys.executable, *arguments], cwd=folder, capture_output=True, text=True
        )
    if result.returncode != 0:
        last = (result.stderr.strip() or result.stdout.strip()).splitlines()[-1:] or ["no output"]
        raise RevisionError(f"at {ref}: `python {' '.join(arguments)[:80]}` failed: {last[0]}")
    return json.loads(result.stdout)


def encode(value: Any) -> Any:
    """JSON for what json cannot write: an archive as its files' hashes (as Pulumi compares
    code), a layer folder by name."""
    import hashlib
    import pathlib

    assets = getattr(value, "assets", None)
    if isinstance(assets, dict):
        return {name: encode(asset) for name, asset in sorted(assets.items())}
    path = getattr(value, "path", None)
    if isinstance(path, str):
        file = pathlib.Path(path)
        return hashlib.sha256(file.read_bytes()).hexdigest() if file.is_file() else file.name
    return str(value)


# What the program declares, by the revision's own runner (which every revision has), encoded
# by the same function as this side.
DECLARED = "from typing import Any\n" + inspect.getsource(encode) + (
    "import json, sys\nfrom offline.program import run\ninventory = run(sys.argv[1])\n"
    "print(json.dumps({f'{r.type}::{r.name}': r.inputs for r in inventory.resources "
    "if not r.type.startswith('eda:')}, sort_keys=True, default=encode))\n"
)


def declared_at(ref: str, stack: str) -> dict[str, dict]:
    return run_json(ref, ["-c", DECLARED, stack])
