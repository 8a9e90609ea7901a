"""The REST API (API Gateway v1) of the template, served locally.

One module per concern, as an emulator should be: `routes` (the resource tree from the
template), `waf` (the stage's web ACL body-size rules), `validation` (request
validators and models), `vtl` and `jsonpath` (mapping templates), `context`
(`$context`), `mapping` (parameter mappings, integration-response selection),
`integrations` (signed calls to AWS services), `gateway_responses` (API Gateway's own
answers) and `handler` (one request, end to end). Limits and known differences from
API Gateway: LIMITS.md next to this file.
"""
