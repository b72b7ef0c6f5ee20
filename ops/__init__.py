"""Operations on a deployed stack, one code path for AWS and the emulator: boto3 clients in,
results out. `python -m ops --help` lists the commands.

On the emulator, `LocalCloud.ops_sqs()` / `ops_events()` (or `--emulator` on the command line)
supply clients whose operations moto lacks are bridged (`message-move`, `replay-window`); the
calls made here are the same.
"""
