"""The console's routes: the page and its assets, the skill catalogue and the place picker."""

from fastapi.testclient import TestClient


def test_the_page_is_a_shell_with_a_strict_policy(client: TestClient) -> None:
    page = client.get("/console")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    assert "/map/static/leaflet/leaflet.js" in page.text and "/console/static/console.js" in page.text
    script = client.get("/console/static/console.js")
    assert script.status_code == 200 and "sessionStorage" in script.text
    assert "innerHTML" not in script.text
    assert client.get("/console/static/console.css").status_code == 200
    assert client.get("/console/static/nothing.js").status_code == 404


def test_skills_are_the_catalogue_for_any_token(
    client: TestClient, viewer: dict[str, str], coordinator: dict[str, str]
) -> None:
    assert client.get("/api/v1/skills").status_code == 401
    skills = client.get("/api/v1/skills", headers=viewer).json()
    assert {
        "code": "first_aid",
        "name": skills[[s["code"] for s in skills].index("first_aid")]["name"],
    } in skills
    assert set(skills[0]) == {"code", "name"}
    assert skills == sorted(skills, key=lambda s: s["name"])
    assert client.get("/api/v1/skills", headers=coordinator).json() == skills


def test_places_find_towns_by_the_start_of_their_name(
    client: TestClient, viewer: dict[str, str], coordinator: dict[str, str]
) -> None:
    found = client.get("/api/v1/places", params={"q": "carl"}, headers=coordinator).json()
    assert found[0]["name"] == "Carlisle" and round(found[0]["lat"]) == 55
    assert client.get("/api/v1/places", params={"q": "zzzz"}, headers=coordinator).json() == []
    assert client.get("/api/v1/places", params={"q": ""}, headers=coordinator).status_code == 422
    assert client.get("/api/v1/places", params={"q": "carl"}, headers=viewer).status_code == 403
