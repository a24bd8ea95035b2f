"""Health check and Prometheus metrics."""

from __future__ import annotations

import redis

from api.app import API_PREFIX


def test_healthz_reports_an_unreachable_redis(database, settings) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app

    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    with TestClient(create_app(settings, database=database, redis=dead)) as client:
        response = client.get(f"{API_PREFIX}/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"database": "ok", "redis": "unavailable"}}


def test_metrics(client, headers, make_call) -> None:
    make_call("m1")
    make_call("m2", status="queued")
    make_call("m3", status="failed")
    client.get(f"{API_PREFIX}/calls/m1", headers=headers["admin"])
    client.get(f"{API_PREFIX}/calls/m2", headers=headers["admin"])
    assert client.get(f"{API_PREFIX}/metrics").status_code == 401
    response = client.get(f"{API_PREFIX}/metrics", headers=headers["agent"])
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'inspector_calls{status="done"} 1.0' in text
    assert 'inspector_calls{status="queued"} 1.0' in text
    assert 'inspector_calls{status="failed"} 1.0' in text
    assert 'inspector_calls{status="processing"} 0.0' in text
    assert "inspector_queue_jobs 0.0" in text
    route = f"{API_PREFIX}/calls/{{call_id}}"
    assert f'inspector_http_requests_total{{method="GET",route="{route}",status="200"}} 2.0' in text
    assert f'inspector_http_request_duration_seconds_count{{method="GET",route="{route}"}} 2.0' in text
    assert "/calls/m1" not in text  # labels are route templates, never raw paths
