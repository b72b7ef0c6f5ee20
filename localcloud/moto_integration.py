"""Deploy creators for EventBridge Pipes: Pulumi inputs in, moto resources out.

moto holds a pipe (CreatePipe, DescribePipe) but never moves a message through it; the `pipe`
bridge (bridges.PipeBridge) plays an SQS-to-SQS pipe as AWS documents it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from localcloud.bridges import PIPE, bridge_note
from localcloud.records import Line, PipeSpec, auto_name
from offline.readers import whole

if TYPE_CHECKING:
    from localcloud.deploy import Creator, MotoState

PIPE_TYPE = "aws:pipes/pipe:Pipe"
# CreatePipe's default for an SQS source (Pipes API reference, PipeSourceSqsQueueParameters).
SQS_SOURCE_BATCH_SIZE = 10


def _sqs(arn: str) -> bool:
    return arn.startswith("arn:aws:sqs:")


def pipe(state: MotoState, name: str, i: dict) -> tuple[str, dict]:
    pipe_name = i.get("name") or auto_name(name, 64)
    source = (i.get("sourceParameters") or {}).get("sqsQueueParameters") or {}
    target = i.get("targetParameters") or {}
    sqs_target = target.get("sqsQueueParameters") or {}
    arguments: dict[str, Any] = {
        "Name": pipe_name,
        "Source": i["source"],
        "Target": i["target"],
        "RoleArn": i["roleArn"],
        "DesiredState": i.get("desiredState") or "RUNNING",
        "Tags": i.get("tags") or {},
    }
    if source:
        arguments["SourceParameters"] = {
            "SqsQueueParameters": {
                "BatchSize": whole(source.get("batchSize") or SQS_SOURCE_BATCH_SIZE),
                "MaximumBatchingWindowInSeconds": whole(
                    source.get("maximumBatchingWindowInSeconds") or 0
                ),
            }
        }
    target_arguments: dict[str, Any] = {}
    if target.get("inputTemplate") is not None:
        target_arguments["InputTemplate"] = target["inputTemplate"]
    queue_arguments = {
        api: sqs_target[key]
        for key, api in (
            ("messageGroupId", "MessageGroupId"),
            ("messageDeduplicationId", "MessageDeduplicationId"),
        )
        if sqs_target.get(key)
    }
    if queue_arguments:
        target_arguments["SqsQueueParameters"] = queue_arguments
    if target_arguments:
        arguments["TargetParameters"] = target_arguments
    arn = state.client("pipes").create_pipe(**arguments)["Arn"]

    if _sqs(i["source"]) and _sqs(i["target"]):
        state.pipes.append(
            PipeSpec(
                name=pipe_name,
                arn=arn,
                source_arn=i["source"],
                target_arn=i["target"],
                batch_size=whole(source.get("batchSize") or SQS_SOURCE_BATCH_SIZE),
                batching_window_s=whole(source.get("maximumBatchingWindowInSeconds") or 0),
                input_template=target.get("inputTemplate"),
                message_group_id=sqs_target.get("messageGroupId"),
                message_deduplication_id=sqs_target.get("messageDeduplicationId"),
            )
        )
        state.report.bridged.append(Line(PIPE_TYPE, name, bridge_note(PIPE)))
    else:
        state.report.not_emulated.append(
            Line(PIPE_TYPE, name, "held by moto, never run: the pipe bridge plays SQS-to-SQS "
                 f"pipes only ({i['source']} -> {i['target']})")
        )
    return pipe_name, {"arn": arn, "name": pipe_name}


CREATORS: dict[str, Creator] = {PIPE_TYPE: pipe}
