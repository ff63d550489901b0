#!/usr/bin/env bash
# Exits 0 only when TensorFlow Serving reports a version of the model AVAILABLE.
#
# Why not a plain HTTP probe: GET /v1/models/NAME answers 200 while the model is still LOADING (and while it is
# UNLOADING), so the status code says only that the server is up. The state must be read from the JSON body.
# Why bash and /dev/tcp: the official tensorflow/serving image has bash and grep but no curl, wget or python;
# compose's healthcheck and the Kubernetes exec readiness probe both run this same file inside that image.
#
# Usage: tfserving-ready.sh [MODEL_NAME] [HOST] [REST_PORT]   (defaults: wav2vec2 127.0.0.1 8501)
set -u
model="${1:-${MODEL_NAME:-wav2vec2}}"
host="${2:-127.0.0.1}"
port="${3:-8501}"

# HTTP/1.0 so the server closes the connection after the body and the read below ends by itself.
if ! { exec 3<>"/dev/tcp/${host}/${port}"; } 2>/dev/null; then
    echo "not ready: nothing listening on ${host}:${port}" >&2
    exit 1
fi
printf 'GET /v1/models/%s HTTP/1.0\r\nHost: %s\r\n\r\n' "$model" "$host" >&3
response="$(cat <&3)"
exec 3<&-

status_line="${response%%$'\r'*}"
case "$status_line" in
    "HTTP/1."?" 200"*) ;;
    *) echo "not ready: ${status_line:-no HTTP response}" >&2; exit 1 ;;
esac
# Serving pretty-prints `"state": "AVAILABLE"`; allow any spacing in case that changes.
if grep -Eq '"state"[[:space:]]*:[[:space:]]*"AVAILABLE"' <<<"$response"; then
    exit 0
fi
echo "not ready: model ${model} has no AVAILABLE version yet" >&2
exit 1
