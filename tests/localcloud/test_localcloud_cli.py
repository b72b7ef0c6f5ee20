"""The CLIs name the bad argument and what is allowed."""

from __future__ import annotations

import pytest

from localcloud.__main__ import main as localcloud_main
from ops.__main__ import main as ops_main


@pytest.mark.parametrize(
    ("main", "argv", "message"),
    [
        (localcloud_main, ["demo", "--events", "0"], "--events 0: allowed: a whole number >= 1"),
        (
            localcloud_main,
            ["demo", "--poison", "0.9"],
            "--poison 0.9: allowed: a share between 0 and 0.5",
        ),
        (
            ops_main,
            ["replay", "--bus", "b", "--archive", "a", "--from", "yesterday", "--to", "2026-01-01"],
            "'yesterday': allowed: an ISO 8601 time",
        ),
        (
            ops_main,
            ["replay", "--bus", "b", "--archive", "a", "--from", "2026-01-02", "--to", "2026-01-01"],
            "must be after --from",
        ),
        (localcloud_main, ["dlq", "inspect", "q"], "invalid choice: 'dlq'"),
    ],
)
def test_bad_arguments_are_named_with_what_is_allowed(main, argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err
