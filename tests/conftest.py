"""Shared test setup: nothing here may reach AWS."""

import os

import pytest

# Set before any test module imports boto3 or the program.
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="us-east-1",
)


@pytest.fixture(scope="session")
def inventories():
    """The program evaluated once per shipped stack (about a second each)."""
    from offline.program import run

    cache = {}

    def get(stack: str):
        if stack not in cache:
            cache[stack] = run(stack)
        return cache[stack]

    return get
