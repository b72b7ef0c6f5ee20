"""Cost model: prices the declared stack from projected event volume.

`topology` reads what the program registers (`coverage` says how each resource type is priced),
`volume` propagates each domain's event mix through rules, filter policies, pipes and hand-offs,
`usage` turns it into monthly quantities with their formulas (a module per service family),
`estimate` prices them through the dated, sourced `catalogue` (tiers and free tiers on account
totals), and `report` renders the result; `scale` sweeps volume and checks capacity against
`quotas`, `levers` re-prices variants, `whatif` applies command-line changes, `diff` compares two
estimates, `refresh` rebuilds the catalogue from the AWS Price List API, and `actual` sets a
month's bill from Cost Explorer beside the estimate. `behaviour` and `assumptions` hold what the
bill depends on that the stack files do not state.
"""
