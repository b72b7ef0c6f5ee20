"""The platform program: shared pieces once per stack, then one Domain per configured domain."""

import pulumi
import pulumi_aws as aws

from components.compute import RUNTIME
from components.domain import Domain
from components.packaging import handler_code, layer_dir
from components.platform import AlarmTopic, Platform, PlatformKey
from components.storage import Storage
from settings.load import from_pulumi
from settings.naming import StackNames, tags

# Validated before anything is registered: a bad stack file never half-deploys.
config = from_pulumi()
names = StackNames(config.stack)
stack_tags = tags(config.stack)
account_id = aws.get_caller_identity_output().account_id

# A deleted key makes every encrypted topic, queue and table unreadable: protected with the data.
key = PlatformKey(
    "platform-key",
    alias=names.key_alias,
    account_id=account_id,
    tags=stack_tags,
    opts=pulumi.ResourceOptions(protect=config.protect_stateful),
    retain=config.protect_stateful,
)
alarms = AlarmTopic(
    "alarms",
    topic_name=names.alarm_topic,
    alarm_prefix=names.alarm_prefix,
    key_arn=key.key.arn,
    account_id=account_id,
    region=config.region,
    emails=config.alarms.emails,
    tags=stack_tags,
)
storage = Storage(
    "storage",
    names=names,
    domains=list(config.domains),
    key_arn=key.key.arn,
    protect=config.protect_stateful,
    expire_after_days=config.retention.bucket_expire_after_days,
    tags=stack_tags,
)
architectures = sorted(
    {c.architecture for d in config.domains.values() for c in d.consumers.values()}
)
layers = {
    arch: aws.lambda_.LayerVersion(
        f"dependencies-{arch}",
        layer_name=names.layer(arch),
        code=pulumi.FileArchive(str(layer_dir(arch))),
        compatible_runtimes=[RUNTIME],
        compatible_architectures=[arch],
    ).arn
    for arch in architectures
}
platform = Platform(
    region=config.region,
    account_id=account_id,
    key_arn=key.key.arn,
    alarm_topic_arn=alarms.topic.arn,
    table_name=storage.table.name,
    table_arn=storage.table.arn,
    bucket_name=storage.bucket.bucket,
    bucket_arn=storage.bucket.arn,
    code=handler_code(),
    layers=layers,
)
domains = {
    name: Domain(name, config=config, names=names.domain(name), platform=platform)
    for name in config.domains
}
# Consumers once every bus and its rules exist: a consumer may also read other domains' buses
# (`also_from`), declared before or after its own.
buses = {name: domain.routing for name, domain in domains.items()}
for domain in domains.values():
    domain.add_consumers(buses)

pulumi.export("alarm_topic_arn", alarms.topic.arn)
pulumi.export("idempotency_table", storage.table.name)
pulumi.export("archive_bucket", storage.bucket.bucket)
for name, domain in domains.items():
    pulumi.export(name, domain.outputs)
