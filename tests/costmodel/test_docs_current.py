"""The documentation's examples are the tool's own output, and stay so."""

from costmodel.examples import ROOT, stale


def test_generated_examples_match_a_fresh_run():
    outdated = sorted(str(p.relative_to(ROOT)) for p in stale())
    assert outdated == [], f"run `python -m costmodel.examples` to refresh: {outdated}"
