"""Make a built Great Expectations Data Docs site work without internet access.

GX 1.24's page templates load Bootstrap, jQuery, bootstrap-table, Font Awesome
and friends from CDNs, so on an offline machine (most warehouses' networks) the
pages render blank. After each build, :func:`make_offline` copies the vendored
copies of those files (``data_docs_assets/``, from the npm registry at the
versions GX references, with their licences) into the site's
``static/steward-vendor/`` and rewrites every page's links to them, relative to
the page, so the site also works when opened from disk (``file://``).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from pathlib import Path

log = logging.getLogger(__name__)

ASSETS_DIR = Path(__file__).with_name("data_docs_assets")
VENDOR_SUBDIR = Path("static") / "steward-vendor"

# The CDN address GX's templates use -> the vendored file (relative to ASSETS_DIR).
CDN_TO_VENDORED = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": (
        "bootstrap-4.3.1/bootstrap.min.css"
    ),
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": (
        "bootstrap-4.3.1/bootstrap.min.js"
    ),
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery-3.7.1/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": (
        "popper.js-1.12.9/popper.min.js"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": (
        "bootstrap-table-1.19.1/bootstrap-table.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": (
        "bootstrap-table-1.19.1/bootstrap-table.min.js"
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.css": (
        "bootstrap-table-1.19.1/bootstrap-table-filter-control.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.css": (
        "bootstrap-table-1.19.1/bootstrap-table-filter-control.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.js": (
        "bootstrap-table-1.19.1/bootstrap-table-filter-control.min.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/"
    "bootstrap-datepicker.min.css": ("bootstrap-datepicker-1.9.0/bootstrap-datepicker.min.css"),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/"
    "bootstrap-datepicker.min.js": ("bootstrap-datepicker-1.9.0/bootstrap-datepicker.min.js"),
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/"
    "bootstrap-prefers-dark.css": ("bootstrap-dark-1.1.0/bootstrap-prefers-dark.min.css"),
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": (
        "fontawesome-free-6.6.0/css/all.min.css"
    ),
}
# Chart libraries (about 800 kB) that only distribution expectations use.
CHART_SCRIPTS = (
    "https://cdn.jsdelivr.net/npm/vega@5",
    "https://cdn.jsdelivr.net/npm/vega-lite@5",
    "https://cdn.jsdelivr.net/npm/vega-embed@6",
)
_CHART_SCRIPT = re.compile(
    r"<script\b[^>]*src=[\"'](?:" + "|".join(map(re.escape, CHART_SCRIPTS)) + r")[\"'][^>]*>"
    r"\s*</script>\s*",
    re.IGNORECASE,
)
# GX's logo comes from its S3 bucket with the data context id and build time in the
# query string; the site ships the same logo in static/images.
_REMOTE_LOGO = re.compile(
    r"""(src|href)=["']https://great-expectations-web-assets\.s3[^"']*["']""", re.IGNORECASE
)
# GX counts a validation page's depth wrongly (one "../" short under
# validations/<suite>/<run>/<time>/), so its favicon link points to a missing file.
_FAVICON = re.compile(r"""href=["'][^"']*static/images/favicon\.ico["']""", re.IGNORECASE)
_TAG = re.compile(r"<(?:script|link|img)\b[^>]*>", re.IGNORECASE)
_SRI = re.compile(r"\s+(?:integrity|crossorigin)(?:=\"[^\"]*\"|='[^']*'|=[^\s>]+)?", re.IGNORECASE)
_EXTERNAL = re.compile(r"""(?:src|href)=["'](https?://[^"']+)["']""", re.IGNORECASE)


def make_offline(site_dir: Path) -> int:
    """Vendor the assets into ``site_dir`` and rewrite its pages; return pages rewritten.

    Idempotent: a page already rewritten has no CDN link left to change.
    """
    site_dir = Path(site_dir)
    if not (site_dir / "index.html").exists():
        return 0
    shutil.copytree(ASSETS_DIR, site_dir / VENDOR_SUBDIR, dirs_exist_ok=True)
    rewritten = 0
    for page in site_dir.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        offline = rewrite_page(html, _relative(site_dir / "static", page.parent))
        if offline != html:
            page.write_text(offline, encoding="utf-8")
            rewritten += 1
    if leftover := external_links(site_dir):
        log.warning("Data Docs still link outside the site: %s", ", ".join(sorted(leftover)))
    return rewritten


def rewrite_page(html: str, static_href: str) -> str:
    """The page with CDN links pointing into the site's ``static_href`` folder.

    Chart scripts are kept only on a page that draws a chart.
    """
    charts_used = "vegaEmbed(" in html
    vendor_href = f"{static_href}/{VENDOR_SUBDIR.name}"

    def rewrite_tag(match: re.Match[str]) -> str:
        tag = match.group(0)
        for url, vendored in CDN_TO_VENDORED.items():
            if f'"{url}"' in tag:
                # Subresource-integrity hashes name the CDN's bytes, and crossorigin makes
                # file:// loads fail: neither applies to a file next to the page.
                return _SRI.sub("", tag.replace(url, f"{vendor_href}/{vendored}"))
        tag = _FAVICON.sub(f'href="{static_href}/images/favicon.ico"', tag)
        return _REMOTE_LOGO.sub(rf'\1="{static_href}/images/logo-long.png"', tag)

    if not charts_used:
        html = _CHART_SCRIPT.sub("", html)
    return _TAG.sub(rewrite_tag, html)


def external_links(site_dir: Path) -> set[str]:
    """Every http(s) address a page of the site loads a script, stylesheet or image from."""
    found: set[str] = set()
    for page in Path(site_dir).rglob("*.html"):
        for tag in _TAG.findall(page.read_text(encoding="utf-8")):
            found.update(_EXTERNAL.findall(tag))
    return found


def _relative(target: Path, start: Path) -> str:
    return Path(os.path.relpath(target, start)).as_posix()
