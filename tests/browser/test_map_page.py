"""The /map page in a real headless Chromium: layers drawn, live updates, and what a forum never sees."""

import re

import httpx
from playwright.sync_api import Page, Route, expect

from tests.app.mapdata import CARLISLE, UK_AREAS
from tests.app.reserve import incident_body
from tests.browser.conftest import CUMBRIA, SECRET_NAME, MapWorld, Watched

PHONE = re.compile(rb"\+?447\d{9}")


def sign_in(page: Page, token: str) -> None:
    page.goto("/map")
    expect(page.locator("body")).to_have_attribute("data-state", "signed-out")
    page.fill("#token", token)
    page.click("#signin button[type=submit]")
    expect(page.locator("body")).to_have_attribute("data-state", "ready", timeout=20_000)


def stats(page: Page) -> dict[str, int]:
    return dict(page.evaluate("() => ({...window.nvrMap.stats})"))


def wait_for_stat(page: Page, name: str, at_least: int = 1) -> None:
    page.wait_for_function(f"() => window.nvrMap.stats.{name} >= {at_least}", timeout=20_000)


def test_a_forum_sees_its_area_counts_and_live_acceptances_but_no_people(
    watched: Watched, map_world: MapWorld
) -> None:
    page = watched.page
    sign_in(page, map_world.tokens["viewer"])
    wait_for_stat(page, "capacity")
    wait_for_stat(page, "events")
    drawn = stats(page)
    assert drawn["area"] == 1 and drawn["incidents"] == 1 and drawn["rendezvous"] == 1
    assert drawn["capacity"] > 0 and drawn["gaps"] > 0
    assert drawn["callouts"] == 0
    assert page.locator(".leaflet-map-pane path.leaflet-interactive").count() >= drawn["gaps"] + 2
    assert page.locator("canvas.capacity-tile").count() > 0
    assert page.locator("#area").input_value() == CUMBRIA and page.locator("#area").is_disabled()
    assert "Call-ups" not in page.locator(".leaflet-control-layers").inner_text()
    accepted = page.locator(f'#incident-list li[data-incident="{map_world.incident_id}"] td.accepted')
    expect(accepted).to_have_text("0")
    watched.screenshot("map-viewer-before")

    map_world.reply(map_world.phones[0], "YES")
    expect(accepted).to_have_text("1", timeout=15_000)  # over SSE, without reloading
    watched.screenshot("map-viewer-after-acceptance")

    assert watched.errors == []
    source = page.content().encode()
    for content in [source, *watched.bodies]:
        assert not PHONE.search(content), PHONE.search(content)
        assert SECRET_NAME.encode() not in content
    token = map_world.tokens["viewer"]
    assert not any(token in url for url in watched.urls)  # tokens travel in headers, never in URLs
    assert any("/tiles/capacity/" in url for url in watched.urls)
    assert any("/api/v1/map/live" in url for url in watched.urls)


def test_a_coordinator_sees_call_ups_change_colour_live(watched: Watched, map_world: MapWorld) -> None:
    page = watched.page
    sign_in(page, map_world.tokens["coordinator"])
    page.select_option("#area", CUMBRIA)
    expect(page.locator("body")).to_have_attribute("data-state", "ready", timeout=20_000)
    wait_for_stat(page, "callouts", 6)
    wait_for_stat(page, "capacity")
    wait_for_stat(page, "events")
    assert stats(page)["accepted"] == 0
    called = page.locator('.leaflet-callouts-pane path[fill="#e69f00"]')
    assert called.count() == 6
    watched.screenshot("map-coordinator-before")

    map_world.reply(map_world.phones[0], "YES")
    wait_for_stat(page, "accepted", 1)
    expect(page.locator('.leaflet-callouts-pane path[fill="#1a9850"]')).to_have_count(1, timeout=15_000)
    expect(called).to_have_count(5)
    assert "Accepted (1)" in page.locator(".legend").inner_text()
    watched.screenshot("map-coordinator-after-acceptance")
    assert SECRET_NAME not in page.content()  # not in the page until asked for, through the API

    page.locator('.leaflet-callouts-pane path[fill="#1a9850"]').dispatch_event("click")
    page.get_by_role("button", name="Show name and phone").click()
    expect(page.locator(".leaflet-popup-content")).to_contain_text(SECRET_NAME)
    assert watched.errors == []


def test_the_national_view_draws_vector_tiles(watched: Watched, map_world: MapWorld) -> None:
    page = watched.page
    sign_in(page, map_world.tokens["admin"])
    assert page.locator("#area").input_value() == ""
    wait_for_stat(page, "capacity")
    assert stats(page)["gaps"] == 0
    assert page.locator("#gap-controls").evaluate("fieldset => fieldset.disabled")  # gaps need an area
    assert page.evaluate("() => window.nvrMap.map.getZoom()") <= 6
    assert (
        stats(page)["area"] == 58 if UK_AREAS.exists() else stats(page)["area"] >= 1
    )  # outlines: no basemap
    watched.screenshot("map-national")
    page.select_option("#skill", "chainsaw")
    page.wait_for_function(
        "() => performance.getEntriesByType('resource').some(r => r.name.includes('skill=chainsaw'))"
    )
    assert watched.errors == []


def test_the_basemap_is_a_setting(watched: Watched, map_world: MapWorld, basemap: str) -> None:
    page = watched.page
    tiles: list[str] = []
    png = (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
        b"\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
    )

    def serve(route: Route) -> None:
        tiles.append(route.request.url)
        route.fulfill(status=200, content_type="image/png", body=png)

    page.route("https://tiles.example.test/**", serve)
    sign_in(page, map_world.tokens["viewer"])
    page.wait_for_function("() => document.querySelectorAll('img.leaflet-tile-loaded').length > 0")
    assert tiles and all(re.match(r"https://tiles\.example\.test/\d+/\d+/\d+\.png", u) for u in tiles)
    assert "OpenStreetMap" in page.locator(".leaflet-control-attribution").inner_text()
    assert watched.errors == []


def test_a_wrong_token_is_refused_and_nothing_is_kept(watched: Watched, map_world: MapWorld) -> None:
    page = watched.page
    page.goto("/map")
    page.fill("#token", "nvr_not-a-real-token")
    page.click("#signin button[type=submit]")
    expect(page.locator("#status")).to_contain_text("not accepted")
    assert page.evaluate("() => sessionStorage.getItem('nvr.token')") is None
    assert all("401" in e for e in watched.errors)


def test_user_text_in_tooltips_is_shown_as_text_never_run(watched: Watched, map_world: MapWorld) -> None:
    page = watched.page
    attack = '<img src=x onerror="window.nvrPwned=1">Car park <b>B</b>'
    body = incident_body(
        title='<img src=x onerror="window.nvrPwned=2">Eden',
        rendezvous={
            "point": {"type": "Point", "coordinates": [CARLISLE[0] + 0.12, CARLISLE[1]]},
            "text": attack,
        },
    )
    response = httpx.post(
        map_world.server.url + "/api/v1/incidents",
        json=body,
        headers={"Authorization": f"Bearer {map_world.tokens['coordinator']}"},
    )
    assert response.status_code == 201, response.text
    sign_in(page, map_world.tokens["viewer"])
    wait_for_stat(page, "rendezvous", 2)
    page.evaluate(
        """() => window.nvrMap.map.eachLayer((layer) => {
             if (layer instanceof L.CircleMarker && layer.getTooltip()) layer.openTooltip();
           })"""
    )
    tooltip = page.locator(".leaflet-tooltip", has_text="Car park")
    expect(tooltip).to_have_count(1)
    assert tooltip.inner_text() == "Rendezvous: " + attack  # the markup, as text
    assert tooltip.locator("img, b").count() == 0
    # A new rendezvous reaches the page as a live event that redraws the incident: the tooltip a
    # person has open stays open and shows the new text (the map once closed it by replacing the
    # marker, and the stream's first poll raced this test).
    moved = httpx.patch(
        map_world.server.url + f"/api/v1/incidents/{response.json()['id']}",
        json={"rendezvous": {**body["rendezvous"], "text": "Car park C, by the <i>church</i>"}},
        headers={"Authorization": f"Bearer {map_world.tokens['coordinator']}"},
    )
    assert moved.status_code == 200, moved.text
    expect(page.locator(".leaflet-tooltip", has_text="Car park C")).to_have_count(1)
    tooltip = page.locator(".leaflet-tooltip", has_text="Car park")
    expect(tooltip).to_have_count(1)
    assert tooltip.locator("i").count() == 0
    page.locator("#incident-list button", has_text="Eden").first.click()
    expect(page.locator(".leaflet-popup-content")).to_contain_text(
        '<img src=x onerror="window.nvrPwned=2">Eden'
    )
    watched.screenshot("map-user-text-escaped")
    assert page.evaluate("() => window.nvrPwned") is None
    assert page.locator("img[src=x]").count() == 0
    assert watched.errors == []
