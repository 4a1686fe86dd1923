"""Extraction on small hand-made pages of each page type, PDFs with page numbers, hostile inputs."""

from __future__ import annotations

import json

import pytest
from lxml import html as lxml_html

from tools.errors import FetchError
from tools.extract import extract, extract_pdf, extract_result
from tools.extract.meta import PageMeta, read_meta
from tools.types import Document, FetchResult

BASE = "https://example.org/section/page.html"

_TOPICS = ["river", "glacier", "harbour", "orchard", "lantern", "compass", "meadow", "quarry", "beacon", "canyon"]


def prose(topic: str, n: int = 4) -> str:
    """Distinct, ordinary sentences about ``topic`` (no two alike, so nothing reads as a duplicate)."""
    sentences = [
        f"The {topic} survey began early in the season, when volunteers counted every visitor by hand.",
        f"Residents near the {topic} described how the landscape had changed over the last decade.",
        f"Engineers measured the {topic} twice a week and logged each reading in a shared notebook.",
        f"Local historians traced the name of the {topic} back to a map printed in the eighteenth century.",
        f"Funding for the {topic} project came from a regional grant and a small group of donors.",
        f"Visitors who came to the {topic} in autumn reported quieter paths and clearer views.",
    ]
    return " ".join(sentences[:n])


def page(body: str, head: str = "", lang: str = "en") -> str:
    """A full HTML document around ``body`` with the usual site chrome."""
    return f"""<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">{head}</head><body>
<header class="site-header"><a href="/">Example Site</a>
<nav><ul><li><a href="/news">News</a></li><li><a href="/sport">Sport</a></li>
<li><a href="/about">About us</a></li></ul></nav>
</header>
<div id="cookie-banner" class="cookie-consent">We use cookies to improve your experience. Accept all cookies or
manage your preferences in the privacy centre before you continue reading this website.</div>
{body}
<footer class="site-footer"><p>Copyright 2026 Example Media Group. All rights reserved.</p>
<ul><li><a href="/privacy">Privacy policy</a></li><li><a href="/terms">Terms of use</a></li></ul></footer>
</body></html>"""


def test_article_keeps_content_and_drops_boilerplate() -> None:
    head = """<title>Counting the river | Example Site</title>
<meta property="og:title" content="Counting the river">
<meta name="author" content="Ada Lovelace">
<meta property="article:published_time" content="2025-03-14T09:30:00Z">
<link rel="canonical" href="/news/counting-the-river">"""
    body = f"""<main><article><h1>Counting the river</h1>
<p>{prose("river")} Read the <a href="/reports/river-2025.pdf">full report</a> for details.</p>
<h2>What the volunteers found</h2>
<p>{prose("glacier")}</p><p>{prose("harbour")}</p></article>
<aside class="related-articles"><h3>Related articles</h3><ul>
<li><a href="/a">Ten things about bridges</a></li><li><a href="/b">Why towers lean</a></li>
<li><a href="/c">The best walks in spring</a></li></ul></aside></main>"""
    doc = extract(page(body, head), BASE)
    assert isinstance(doc, Document)
    assert doc.title == "Counting the river"
    assert doc.author == "Ada Lovelace"
    assert doc.published == "2025-03-14"
    assert doc.language == "en"
    assert doc.canonical_url == "https://example.org/news/counting-the-river"
    assert "volunteers counted every visitor by hand" in doc.text
    assert "What the volunteers found" in doc.text
    assert "eighteenth century" in doc.text
    for boilerplate in ("cookies", "Copyright 2026", "Why towers lean", "Privacy policy", "Sport"):
        assert boilerplate not in doc.text, boilerplate
    assert "\n\nWhat the volunteers found\n\n" in doc.text  # a heading on its own line, blank lines around
    assert "## What the volunteers found" in doc.markdown
    report = [link for link in doc.links if link.text == "full report"]
    assert report and report[0].url == "https://example.org/reports/river-2025.pdf"
    assert all(link.url.startswith("https://") for link in doc.links)


def test_forum_keeps_every_post_with_its_author() -> None:
    posts = "".join(
        f"""<div class="post" id="post-{i}"><div class="post-author"><a href="/u/{name}">{name}</a>
<span class="post-date">March {i + 1}, 2025</span></div>
<div class="post-body"><p>{prose(topic, 2 + i % 3)}</p></div>
<div class="post-actions"><a href="#reply">Reply</a> <a href="#like">Like</a></div></div>"""
        for i, (name, topic) in enumerate(
            zip(["marta", "jonas", "li_wei", "sam", "priya", "oskar"], _TOPICS, strict=False)
        )
    )
    body = f"""<div class="thread"><h1>How do you keep a field notebook dry?</h1>{posts}</div>
<div class="sidebar"><h3>Popular threads</h3><ul><li><a href="/t/1">Best boots</a></li>
<li><a href="/t/2">Tent advice</a></li><li><a href="/t/3">Maps offline</a></li></ul></div>"""
    doc = extract(page(body), "https://forum.example.org/t/field-notebook/42")
    for topic in _TOPICS[:6]:
        assert f"The {topic} survey began early" in doc.text, topic
    for name in ("marta", "jonas", "li_wei", "sam", "priya", "oskar"):
        assert name in doc.text
    assert "Popular threads" not in doc.text
    assert "cookies" not in doc.text
    assert doc.metadata["page_type"] == "items"


def test_product_page_is_completed_from_json_ld() -> None:
    data = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": "Trailhead Field Notebook",
        "description": "A waterproof notebook with 96 numbered pages, a stitched spine and a pencil loop.",
        "brand": {"@type": "Brand", "name": "Northwind"},
        "sku": "NW-FN-96",
        "offers": {"@type": "Offer", "price": "14.50", "priceCurrency": "EUR",
                   "availability": "https://schema.org/InStock"},
    }
    head = f'<title>Trailhead Field Notebook</title><script type="application/ld+json">{json.dumps(data)}</script>'
    body = """<main><div class="product"><h1>Trailhead Field Notebook</h1><img src="/nb.jpg" alt="">
<button>Add to basket</button></div></main>"""
    doc = extract(page(body, head), "https://shop.example.org/p/notebook")
    assert "Trailhead Field Notebook" in doc.text
    assert "waterproof notebook with 96 numbered pages" in doc.text
    assert "14.50" in doc.text and "EUR" in doc.text
    assert "Northwind" in doc.text
    assert doc.text.count("Trailhead Field Notebook") == 1
    assert doc.text.startswith("Trailhead Field Notebook")
    assert "cookies" not in doc.text
    assert doc.metadata["page_type"] == "product"


def test_collection_keeps_every_card() -> None:
    cards = "".join(
        f"""<li class="product-card"><a href="/p/{i}"><h3>Weatherproof {topic} field jacket</h3></a>
<span class="price">${40 + i}.00</span><span class="colour">Olive green</span></li>"""
        for i, topic in enumerate(_TOPICS)
    )
    body = f"""<main><h1>Outdoor jackets</h1><p>Ten jackets, all tested in the rain by our staff.</p>
<ul class="product-grid">{cards}</ul></main>"""
    doc = extract(page(body), "https://shop.example.org/c/jackets")
    for i, topic in enumerate(_TOPICS):
        assert f"Weatherproof {topic} field jacket" in doc.text
        assert f"${40 + i}.00" in doc.text
    assert "About us" not in doc.text
    urls = {link.url for link in doc.links}
    assert "https://shop.example.org/p/3" in urls


def test_documentation_keeps_code_and_tables_in_markdown() -> None:
    body = f"""<main><article><h1>Configuring the exporter</h1><p>{prose("compass")}</p>
<h2>Install</h2><pre><code>pip install exporter==1.2.0
exporter --config exporter.toml</code></pre>
<p>{prose("beacon", 3)}</p>
<h2>Options</h2><table><thead><tr><th>Option</th><th>Default</th><th>Meaning</th></tr></thead>
<tbody><tr><td>interval</td><td>30</td><td>Seconds between two exports</td></tr>
<tr><td>retries</td><td>3</td><td>Attempts before giving up</td></tr></tbody></table>
<ul><li>Use <code>--dry-run</code> to check a configuration.</li><li>Logs go to standard error.</li></ul>
</article></main>"""
    doc = extract(page(body), "https://docs.example.org/exporter/config")
    assert "```\npip install exporter==1.2.0\nexporter --config exporter.toml\n```" in doc.markdown
    assert "| Option | Default | Meaning |" in doc.markdown
    assert "| interval | 30 | Seconds between two exports |" in doc.markdown
    assert "- Logs go to standard error." in doc.markdown
    assert "# Configuring the exporter" in doc.markdown or "Configuring the exporter" in doc.title
    assert "pip install exporter==1.2.0" in doc.text


def test_service_page_keeps_sections() -> None:
    sections = "".join(
        f"<section><h2>{title}</h2><p>{prose(topic, 3)}</p></section>"
        for title, topic in (("Site surveys", "meadow"), ("Water sampling", "canyon"), ("Reporting", "orchard"))
    )
    body = f"""<main><h1>Environmental consulting</h1>{sections}
<div class="newsletter-signup"><p>Subscribe to our newsletter</p><a href="/subscribe">Sign up</a></div></main>"""
    doc = extract(page(body), "https://consult.example.org/services")
    for title in ("Site surveys", "Water sampling", "Reporting"):
        assert title in doc.text
    assert "The canyon survey began early" in doc.text
    assert "Copyright 2026" not in doc.text


def test_bytes_in_a_declared_charset_are_decoded() -> None:
    html = page(f"<article><h1>Café culture</h1><p>{prose('lantern')} Crème brûlée.</p></article>")
    html = html.replace('<meta charset="utf-8">', '<meta charset="iso-8859-1">')
    doc = extract(html.encode("iso-8859-1"), BASE)
    assert "Crème brûlée" in doc.text


# --- PDFs ------------------------------------------------------------------------------------


def make_pdf(pages: list[str], title: str = "Field report") -> bytes:
    """A minimal valid PDF with one line of Helvetica text per page (xref offsets computed)."""
    objects: list[bytes] = []
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages)))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for i, text in enumerate(pages):
        stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {5 + 2 * i} 0 R "
            f"/Resources << /Font << /F1 3 0 R >> >> >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects.append(f"<< /Title ({title}) /Author (Grace Hopper) /CreationDate (D:20240501120000Z) >>".encode())
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\n" % (len(objects) + 1, len(objects))
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def test_pdf_keeps_page_numbers() -> None:
    data = make_pdf(["Alpha page talks about rivers.", "Beta page talks about glaciers.", "Gamma page ends it."])
    doc = extract_pdf(data, "https://example.org/report.pdf")
    assert [span.number for span in doc.pages] == [1, 2, 3]
    assert doc.title == "Field report"
    assert doc.author == "Grace Hopper"
    assert doc.published == "2024-05-01"
    for number, word in ((1, "Alpha"), (2, "Beta"), (3, "Gamma")):
        offset = doc.text.index(word)
        assert doc.page_at(offset) == number
        span = doc.pages[number - 1]
        assert word in doc.text[span.start:span.end]


def test_extract_result_dispatches_by_content_type() -> None:
    def result(ctype: str, body: bytes, text: str | None) -> FetchResult:
        return FetchResult(url="https://example.org/x", final_url="https://example.org/y", status=200,
                           content_type=ctype, body=body, text=text, fetched_at="2026-01-01T00:00:00Z")

    pdf = extract_result(result("application/pdf", make_pdf(["Only page here."]), None))
    assert pdf.pages and pdf.url == "https://example.org/y"
    md = extract_result(result("text/markdown", b"", "# Notes\n\nSome **bold** words and a [link](https://a.b)."))
    assert md.title == "Notes" and "Some bold words and a link." in md.text and "**bold**" in md.markdown
    plain = extract_result(result("text/plain", b"", "First line\n\n\n\nSecond paragraph"))
    assert plain.text == "First line\n\nSecond paragraph"
    html = extract_result(result("text/html", b"", page(f"<article><h1>Hi</h1><p>{prose('quarry')}</p></article>")))
    assert "quarry survey began" in html.text
    with pytest.raises(FetchError, match="cannot be extracted"):
        extract_result(result("image/png", b"\x89PNG....", None))


# --- hostile input ---------------------------------------------------------------------------


@pytest.mark.parametrize("html", ["", "   \n  ", b"", b"\x00\x01\x02\xff" * 500])
def test_empty_or_binary_input_is_a_clear_error(html: str | bytes) -> None:
    with pytest.raises(FetchError) as info:
        extract(html, BASE)
    message = str(info.value)
    assert message.endswith(".") and "\n" not in message


def test_damaged_pdf_is_a_clear_error() -> None:
    with pytest.raises(FetchError, match="PDF could not be read"):
        extract_pdf(b"%PDF-1.4\nthis is not really a pdf", None)


def test_huge_nesting_and_markup_soup_do_not_crash() -> None:
    deep = "<div>" * 20000 + prose("beacon") + "</div>" * 20000
    doc = extract(page(deep), BASE)
    assert isinstance(doc, Document)
    soup = "<p><b><i>unclosed <table><tr><td>cell <li>item</p></b>" + prose("meadow") + "<<>>&&;;<!-- x"
    doc = extract(soup, None)
    assert "meadow survey" in doc.text
    assert all(not link.url.startswith("/") for link in doc.links)


def test_relative_base_href_resolves_links() -> None:
    html = page(f'<article><p>{prose("orchard")} See <a href="notes/1">the notes</a>.</p></article>',
                head='<base href="/docs/v2/">')
    doc = extract(html, "https://example.org/start")
    assert [link.url for link in doc.links if link.text == "the notes"] == ["https://example.org/docs/v2/notes/1"]


def test_text_without_markup_and_script_links_are_handled() -> None:
    doc = extract(prose("compass"), None)
    assert "compass survey" in doc.text
    html = page(f'<article><p>{prose("harbour")} <a href="javascript:alert(1)">click</a> '
                f'<a href="mailto:x@example.org">mail</a> <a href="#top">top</a></p></article>')
    doc = extract(html, BASE)
    assert all(link.url.startswith("http") for link in doc.links)


# --- page-type signals -----------------------------------------------------------------------


def _meta(head: str = "", body: str = "") -> PageMeta:
    return read_meta(lxml_html.document_fromstring(f"<html><head>{head}</head><body>{body}<p>x</p></body></html>"),
                     None)


def _ld(*objs: dict[str, object]) -> str:
    return "".join(f'<script type="application/ld+json">{json.dumps(o)}</script>' for o in objs)


def test_product_signals() -> None:
    assert _meta(_ld({"@type": "Product", "name": "A"})).is_product()
    assert not _meta(_ld({"@type": "Product", "name": "A"}, {"@type": "Product", "name": "B"})).is_product()
    assert not _meta(_ld({"@type": "Product"}, {"@type": "ItemList"})).is_product()
    assert _meta('<meta property="og:type" content="product">').is_product()
    assert not _meta('<meta property="og:type" content="product.group">').is_product()
    assert _meta(body='<div itemscope itemtype="https://schema.org/Product"><span>A</span></div>').is_product()
    assert not _meta(_ld({"@type": "NewsArticle", "headline": "A"})).is_product()


def test_discussion_signals() -> None:
    assert _meta(_ld({"@type": "DiscussionForumPosting", "headline": "Q"})).is_discussion(None)
    assert _meta(_ld({"@type": "QAPage"})).is_discussion("https://example.org/x")
    assert _meta().is_discussion("https://example.org/threads/dry-notebooks.42/")
    assert _meta().is_discussion("https://forum.example.org/t/dry-notebooks/42")
    assert not _meta().is_discussion("https://example.org/2025/03/counting-the-river")
    assert not _meta().is_discussion(None)
