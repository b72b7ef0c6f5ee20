"""The code archive is the source files, so its Pulumi hash follows the code and nothing else."""

from __future__ import annotations

from pathlib import Path

from components.packaging import handler_code
from offline.artifacts import digest, materialize_code


def test_materialized_code_is_what_the_archive_holds(tmp_path):
    code = materialize_code(tmp_path / "code")
    written = {p.relative_to(code).as_posix(): p for p in code.rglob("*") if p.is_file()}
    archived = handler_code().assets
    assert sorted(written) == sorted(archived)
    assert all(
        written[name].read_bytes() == Path(archived[name].path).read_bytes() for name in written
    )
    assert not [
        name for name in written if "__pycache__" in name or not name.endswith((".py", ".json"))
    ]
    assert digest(materialize_code(tmp_path / "again")) == digest(code)
