"""Who may call and what they may send: API keys, CORS, unknown query parameters; plus the offline docs
and per-route metrics labels. A real app over the tiny export, driven through HTTP."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from service import create_app
from tests.service.gateway_fixtures import encode, speechlike, upload

KEY = "sk-test-2b7f0c1e"
OTHER_KEY = "sk-other-9d41"


@pytest.fixture(scope="module")
def keyed(make_settings, tmp_path_factory):
    """The gateway with one key from ASR_API_KEYS and another from a key file (as a k8s Secret mounts it)."""
    key_file = tmp_path_factory.mktemp("secret") / "api-keys"
    key_file.write_text(f"# mounted from the asr-api-keys Secret\n\n  {OTHER_KEY}  \n")
    settings = make_settings(api_keys=[KEY], api_keys_file=key_file, cors_allow_origins=["https://app.example"])
    with TestClient(create_app(settings)) as client:
        yield client


def _wav() -> bytes:
    return encode(speechlike(0.8, 16_000, seed=11), 16_000)


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/v1/transcribe"), ("GET", "/v1/models"), ("POST", "/v1/audio/transcriptions")],
)
@pytest.mark.parametrize("authorization", [None, "Bearer wrong-key", f"Basic {KEY}", KEY, "Bearer ", f"Bearer {KEY}x"])
def test_routes_refuse_missing_or_wrong_keys(keyed, method, path, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    response = keyed.request(method, path, headers=headers)
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    error = response.json()["error"]
    assert error["code"] == "invalid_api_key"
    if path.startswith(("/v1/audio", "/v1/models")):  # OpenAI's error shape on OpenAI's routes
        assert set(error) == {"message", "type", "param", "code"}
        assert error["type"] == "invalid_request_error"
    else:
        assert set(error) == {"code", "message"}


@pytest.mark.parametrize("key", [KEY, OTHER_KEY], ids=["env", "file"])
def test_right_key_from_the_variable_or_the_file_is_let_in(keyed, key):
    headers = {"Authorization": f"Bearer {key}"}
    assert keyed.get("/v1/models", headers=headers).status_code == 200
    response = keyed.post("/v1/transcribe", files=upload(_wav()), headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["text"]


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_probes_and_metrics_stay_open(keyed, path):
    assert keyed.get(path).status_code == 200


def test_no_key_configured_means_open(client):
    assert client.get("/v1/models").status_code == 200


def test_keys_never_reach_the_logs(make_settings, tmp_path, caplog, capfd):
    key_file = tmp_path / "keys"
    key_file.write_text(OTHER_KEY + "\n")
    settings = make_settings(api_keys=[KEY], api_keys_file=key_file)
    caplog.set_level(logging.DEBUG)
    with TestClient(create_app(settings)) as client:
        logging.getLogger("test").info("settings: %r", settings)  # what a careless log line would print
        for authorization in (f"Bearer {KEY}", f"Bearer {OTHER_KEY}", "Bearer not-a-key", None):
            headers = {} if authorization is None else {"Authorization": authorization}
            client.post("/v1/transcribe", files=upload(_wav()), headers=headers)
            client.get("/v1/models?x=1", headers=headers)
    captured = capfd.readouterr()
    text = caplog.text + captured.out + captured.err
    assert "settings:" in caplog.text
    assert KEY not in text and OTHER_KEY not in text


def test_cors_preflight_and_response_headers(keyed):
    preflight = keyed.options(
        "/v1/audio/transcriptions",
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://app.example"
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    # Even a refusal carries the header, so the browser page can show the 401 instead of a CORS failure.
    refused = keyed.get("/v1/models", headers={"Origin": "https://app.example"})
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == "https://app.example"
    stranger = keyed.options(
        "/v1/models", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    )
    assert "access-control-allow-origin" not in stranger.headers


def test_no_cors_headers_by_default(client):
    response = client.get("/v1/models", headers={"Origin": "https://app.example"})
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize(
    ("method", "path", "query"),
    [
        ("POST", "/v1/transcribe", "timestamps=true"),
        ("GET", "/v1/models", "limit=5"),
        ("GET", "/healthz", "verbose=1"),
        ("GET", "/docs", "x=1"),
    ],
)
def test_unknown_query_parameters_are_refused_by_name(client, method, path, query):
    kwargs = {"files": upload(_wav())} if method == "POST" else {}
    response = client.request(method, f"{path}?{query}", **kwargs)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    name = query.split("=")[0]
    assert error["code"] == "unknown_query_parameter"
    assert repr(name) in error["message"]


def test_declared_query_parameters_still_work(client):
    response = client.post("/v1/transcribe?response_format=text", files=upload(_wav()))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")


def test_docs_are_served_offline_and_labelled_in_metrics(client):
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "cdn." not in docs.text and "unpkg" not in docs.text
    redoc = client.get("/redoc")
    assert redoc.status_code == 200 and "cdn." not in redoc.text
    # Every script and stylesheet the pages load comes from this server.
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"):
        (src,) = {
            part.split('"')[0]
            for part in (docs.text + redoc.text).split("/static-offline-docs/")[1:]
            if part.startswith(asset)
        }
        response = client.get(f"/static-offline-docs/{src}")
        assert response.status_code == 200 and len(response.content) > 100_000, asset
    client.get("/openapi.json")
    metrics = client.get("/metrics").text
    for route in ("/docs", "/redoc", "/openapi.json"):
        assert f'asr_http_requests_total{{method="GET",route="{route}",status="200"}}' in metrics, route
    client.get("/no/such/route")
    assert 'route="unmatched",status="404"' in client.get("/metrics").text


def test_models_list_is_openai_shaped_with_our_fields(client):
    body = client.get("/v1/models").json()
    assert body["object"] == "list"
    (card,) = body["data"]
    assert card["id"] == card["name"] == "tiny"
    assert card["object"] == "model" and isinstance(card["created"], int) and card["owned_by"]
    assert card["sample_rate_hz"] == 16_000 and card["vocab"]
