"""/docs and /redoc work without internet: their scripts and styles come from this server."""

import re

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_load_nothing_from_elsewhere(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', response.text)
    assert assets, response.text
    assert not re.search(r"https?://", response.text.replace("http://testserver", "")), response.text
    for asset in assets:
        assert asset.startswith("/"), asset
        served = client.get(asset)
        assert served.status_code == 200, asset
        assert len(served.content) > 1000


def test_the_docs_still_describe_the_api(client: TestClient) -> None:
    assert "/api/v1/incidents" in client.get("/openapi.json").json()["paths"]
