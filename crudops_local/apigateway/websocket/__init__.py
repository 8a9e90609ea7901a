"""The WebSocket API (API Gateway v2) of the template, served locally.

`routes` (routes and their Lambda functions from the template), `connections` (the
live connections), `events` (the Lambda proxy events), `server` (handshake, messages,
disconnect) and `management` (the `@connections` API functions post to). Limits and
known differences: crudops_local/apigateway/rest/LIMITS.md.
"""
