"""What every page we serve shares: one HTML head, the security headers and policy, static assets.

Pages are shells (`/map`, `/console`): a body template under their domain's `templates/`, rendered
after this one head with `string.Template`, so the head, the viewport and the headers cannot drift
apart between pages. Values put into a page are HTML-escaped here.
"""

import html
from collections.abc import Sequence
from pathlib import Path as FilePath
from string import Template
from urllib.parse import urlsplit

from fastapi.responses import FileResponse, HTMLResponse

from app.errors import NotFound
from app.settings import Settings

HEAD = Template((FilePath(__file__).resolve().parent / "templates" / "head.html").read_text(encoding="utf-8"))
PAGE_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
STATIC_CACHE = {"Cache-Control": "public, max-age=3600"}


def page_policy(basemap_url: str, *, style_hashes: Sequence[str] = (), form_action: str = "'none'") -> str:
    """A Content Security Policy: our own scripts and API only, images also from the basemap's server;
    inline styles only by their hashes; forms post nowhere unless the page is a form (`'self'`)."""
    images = "'self' data:"
    if basemap_url:
        parts = urlsplit(basemap_url.replace("{s}", "*"))
        images += f" {parts.scheme}://{parts.netloc}"
    styles = " ".join(("'self'", *style_hashes))
    return (
        f"default-src 'none'; script-src 'self'; style-src {styles}; connect-src 'self'; "
        f"img-src {images}; base-uri 'none'; form-action {form_action}; frame-ancestors 'none'"
    )


def body_template(domain: FilePath, name: str) -> Template:
    """A page's body template, from its domain's `templates/` folder."""
    return Template((domain / "templates" / name).read_text(encoding="utf-8"))


def map_page(
    body: Template,
    settings: Settings,
    *,
    title: str,
    stylesheets: Sequence[str],
    style_hashes: Sequence[str] = (),
) -> HTMLResponse:
    """A page over the basemap: the shared head, the body with the basemap's address, our headers."""
    links = "\n".join(f'<link rel="stylesheet" href="{html.escape(s, quote=True)}">' for s in stylesheets)
    page = HEAD.substitute(title=html.escape(title), stylesheets=links) + body.substitute(
        basemap_url=html.escape(settings.basemap_url, quote=True),
        basemap_attribution=html.escape(settings.basemap_attribution, quote=True),
    )
    policy = page_policy(settings.basemap_url, style_hashes=style_hashes)
    return HTMLResponse(page, headers={"Content-Security-Policy": policy, **PAGE_HEADERS})


def static_files(domain: FilePath) -> dict[str, FilePath]:
    """A domain's `static/` files by their path under it: only these can be served."""
    root = domain / "static"
    return {p.relative_to(root).as_posix(): p for p in root.rglob("*") if p.is_file()}


def static_file(files: dict[str, FilePath], path: str) -> FileResponse:
    """One of a domain's static files, cached an hour; any other path is a 404."""
    found = files.get(path)
    if found is None:
        raise NotFound(f"no static file {path}")
    return FileResponse(found, headers=STATIC_CACHE)
