"""Cost model: prices the declared stack from projected event volume.

Foundations here: `catalogue` (dated, sourced unit prices per preset and region), `quotas`
(default service quotas), `refresh` (rebuild a catalogue from the AWS Price List API) and
`patterns` (EventBridge pattern and SNS filter-policy matching, to propagate volume through
the routing the program declares).
"""
