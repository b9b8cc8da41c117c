"""The interactive API pages under /documentation show the published document, exact body schemas included."""

from __future__ import annotations

import json
from html.parser import HTMLParser

from tests.http.conftest import Client


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []
        self.document_urls: list[str] = []
        self.inline: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            found = dict(attrs)
            if found.get("src"):
                self.sources.append(str(found["src"]))
            if found.get("data-url"):
                self.document_urls.append(str(found["data-url"]))

    def handle_data(self, data: str) -> None:
        if "spec:" in data:
            self.inline.append(data)


def scripts(html: str) -> _Scripts:
    parser = _Scripts()
    parser.feed(html)
    return parser


async def test_swagger_ui_shows_the_exact_document(client: Client) -> None:
    page = await client.get("/documentation/swagger")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    found = scripts(page.text)
    assert any("swagger-ui-bundle.js" in source for source in found.sources)
    (script,) = found.inline
    embedded, _ = json.JSONDecoder().raw_decode(script, script.index("{", script.index("spec:")))
    assert embedded == (await client.get("/documentation/json")).json()
    # Litestar's own schema of this body would lack the length of an id in the list: the page shows msgspec's one.
    participants = embedded["components"]["schemas"]["CreateTeleconsultationBody"]["properties"]["participants"]
    ids = next(choice for choice in participants["anyOf"] if choice.get("type") == "array")
    assert ids["items"]["minLength"] == 1


async def test_scalar_reads_the_served_json_document(client: Client) -> None:
    page = await client.get("/documentation/scalar")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    (url,) = scripts(page.text).document_urls
    assert url.startswith("/documentation")
    referenced = await client.get(url)
    assert referenced.status_code == 200
    assert referenced.json() == (await client.get("/documentation/json")).json()


async def test_the_documentation_root_still_serves_the_json_document(client: Client) -> None:
    root = await client.get("/documentation")
    assert root.status_code == 200
    assert root.json() == (await client.get("/documentation/json")).json()
