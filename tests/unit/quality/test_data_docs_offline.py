"""Data Docs pages point at the vendored assets instead of CDNs."""

from __future__ import annotations

from pathlib import Path

from steward.quality import data_docs

PAGE = """<html><head>
<link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css"/>
<script src="https://cdn.jsdelivr.net/npm/vega@5"></script>
<script src="https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js" \
integrity="sha384-abc" crossorigin="anonymous"></script>
</head><body>
<img src="https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png?d=1&dataContextId=x">
<a href="https://greatexpectations.io">GX</a></body></html>
"""


def test_every_cdn_link_has_a_vendored_file():
    for vendored in data_docs.CDN_TO_VENDORED.values():
        assert (data_docs.ASSETS_DIR / vendored).is_file(), vendored
    for folder in data_docs.ASSETS_DIR.iterdir():
        if folder.is_dir():
            assert (folder / "LICENSE").is_file(), folder


def test_page_links_become_relative_and_lose_integrity_and_charts():
    page = data_docs.rewrite_page(PAGE, "../static")
    assert 'href="../static/steward-vendor/bootstrap-4.3.1/bootstrap.min.css"' in page
    assert 'src="../static/steward-vendor/popper.js-1.12.9/popper.min.js"></script>' in page
    assert "integrity" not in page and "crossorigin" not in page
    assert "vega" not in page  # no chart on this page
    assert 'src="../static/images/logo-long.png"' in page and "dataContextId" not in page
    assert 'href="https://greatexpectations.io"' in page  # plain links are left alone


def test_chart_scripts_stay_on_a_page_that_draws_a_chart():
    page = data_docs.rewrite_page(PAGE + "<script>vegaEmbed('#c', spec)</script>", "static")
    assert "https://cdn.jsdelivr.net/npm/vega@5" in page


def test_make_offline_vendors_and_is_idempotent(tmp_path: Path):
    (tmp_path / "validations").mkdir()
    (tmp_path / "index.html").write_text(PAGE)
    (tmp_path / "validations" / "run.html").write_text(PAGE)
    assert data_docs.make_offline(tmp_path) == 2
    assert data_docs.external_links(tmp_path) == set()
    nested = (tmp_path / "validations" / "run.html").read_text()
    assert '"../static/steward-vendor/bootstrap-4.3.1/bootstrap.min.css"' in nested
    assert (tmp_path / "static/steward-vendor/fontawesome-free-6.6.0/webfonts").is_dir()
    assert data_docs.make_offline(tmp_path) == 0


def test_no_site_no_work(tmp_path: Path):
    assert data_docs.make_offline(tmp_path / "missing") == 0


def test_the_favicon_link_follows_the_page_depth():
    """GX writes one "../" too few on validation pages: the link is made from the real depth."""
    page = '<link rel="shortcut icon" href="../../../static/images/favicon.ico"/>'
    fixed = data_docs.rewrite_page(page, "../../../../static")
    assert 'href="../../../../static/images/favicon.ico"' in fixed
