"""The gateway's pure-ASGI middlewares, outermost first in `service.main`: request metrics, the API-key gate, the
upload byte cap; and uvicorn's HTTP protocol with the request-head limits (`asr serve` installs it)."""
