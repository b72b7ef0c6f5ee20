"""The CLI names the bad argument and what is allowed."""

from __future__ import annotations

import pytest

from localcloud.__main__ import main


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["demo", "--events", "0"], "--events 0: allowed: a whole number >= 1"),
        (["demo", "--poison", "0.9"], "--poison 0.9: allowed: a share between 0 and 0.5"),
        (["replay", "--bus", "b", "--archive", "a", "--from", "yesterday", "--to", "2026-01-01T00:00:00Z"],
         "'yesterday': allowed: an ISO 8601 time"),
    ],
)
def test_bad_arguments_are_named_with_what_is_allowed(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err
