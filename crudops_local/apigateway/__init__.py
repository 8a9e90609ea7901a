"""API Gateway: the REST API (`rest/`) and the WebSocket API (`websocket/`) of the
template behind one ASGI app (`app`), on the paths an execute-api host would serve."""
