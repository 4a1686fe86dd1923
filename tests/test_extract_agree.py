"""The precision rules of extraction on small hand-made article pages: furniture, agreement, article markup."""

from __future__ import annotations

import json

from lxml import html as lxml_html

from tests.test_extract import BASE, page, prose
from tools.extract import extract
from tools.extract.agree import agreeing, furniture, is_article, marked
from tools.extract.blocks import Block
from tools.extract.dom import dedupe, segment
from tools.extract.meta import read_meta

OG_ARTICLE = '<meta property="og:type" content="article"><title>Counting the river</title>'
_NAMES = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Tim", "Hedy", "Claude"]


def article(topics: tuple[str, ...] = ("river", "glacier")) -> str:
    """A short article: a headline and one paragraph per topic."""
    paragraphs = "".join(f"<p>{prose(t, 6)}</p>" for t in topics)
    return f"<article><h1>Counting the river</h1>{paragraphs}</article>"


def comment_thread(n: int = 12) -> str:
    """A long comment thread, each comment with its author and date."""
    items = "".join(
        f'<li class="comment-item"><div class="meta"><b>{_NAMES[i % len(_NAMES)]}</b> <i>March {i + 1}</i></div>'
        f"<p>{prose(['harbour', 'orchard', 'lantern', 'compass', 'meadow', 'beacon'][i % 6], 3 + i % 3)}"
        f" Comment number {i} from reader {_NAMES[i % len(_NAMES)]}.</p></li>"
        for i in range(n)
    )
    return f'<section id="comments"><h2>Comments</h2><ol class="comment-list">{items}</ol></section>'


def teasers(n: int = 8) -> str:
    """A stream of teasers for other stories: a linked headline and a summary each."""
    items = "".join(
        f'<li class="story"><h3><a href="/s/{i}">The story number {i} about the {t} everybody reads</a></h3>'
        f"<p>{prose(t, 3)} Summary {i}.</p></li>"
        for i, t in enumerate(["harbour", "orchard", "lantern", "compass", "meadow", "beacon", "canyon", "quarry"][:n])
    )
    return f'<ul class="stream">{items}</ul>'


def test_comment_thread_longer_than_the_article_is_not_taken() -> None:
    doc = extract(page(f"<div class='wrap'>{article()}{comment_thread()}</div>", OG_ARTICLE), BASE)
    assert "The river survey began" in doc.text and "Residents near the glacier" in doc.text
    assert "Comment number" not in doc.text


def test_teaser_stream_beside_an_article_is_not_taken() -> None:
    doc = extract(page(f"<div class='wrap'>{article()}{teasers()}</div>", OG_ARTICLE), BASE)
    assert "The river survey began" in doc.text and "Residents near the glacier" in doc.text
    assert "Summary 3" not in doc.text


def test_without_article_markup_a_thread_longer_than_the_text_still_wins() -> None:
    # no og:type, no JSON-LD, no <article>: a page of posts is not judged as an article with comments
    body = f"<div class='wrap'><div class='intro'><p>{prose('river', 6)}</p></div>{comment_thread()}</div>"
    doc = extract(page(body), BASE)
    assert "Comment number 5" in doc.text


def _blocks(markup: str) -> tuple[list, lxml_html.HtmlElement]:
    root = lxml_html.fromstring(f"<div id='region'>{markup}</div>")
    return segment(root), root


def test_furniture_drops_comments_link_lists_and_teasers_but_keeps_missed_prose() -> None:
    found = f"<p>{prose('river', 6)}</p>"
    missed = f"<p>{prose('glacier', 6)}</p>"
    links = "<p>" + " ".join(f'<a href="/t/{i}">Topic {i}</a>' for i in range(8)) + "</p>"
    markup = f"<div class='body'>{found}{missed}</div>{links}{comment_thread(3)}{teasers(4)}"
    blocks, root = _blocks(markup)
    text = prose("river", 6)
    drop = furniture(blocks, root, text)
    kept = " ".join(b.block.plain() for i, b in enumerate(blocks) if i not in drop)
    assert "The river survey began" in kept  # agrees with trafilatura
    assert "Residents near the glacier" in kept  # prose trafilatura missed
    assert "Topic 3" not in kept and "Comment number" not in kept and "Summary 2" not in kept


def test_sections_of_an_article_are_not_teasers() -> None:
    # same-shaped units outside trafilatura's text are furniture only when headed by a link
    sections = "".join(f"<div class='part'><h3>Part {t}</h3><p>{prose(t, 5)}</p></div>"
                       for t in ("glacier", "harbour", "orchard", "lantern"))
    blocks, root = _blocks(f"<div class='intro'><p>{prose('river', 6)}</p></div>{sections}")
    assert furniture(blocks, root, prose("river", 6)) == set()


def test_agreement_needs_the_block_text_in_trafilatura_text() -> None:
    blocks, _ = _blocks(f"<p>{prose('river', 3)}</p><p>{prose('meadow', 3)}</p><p>Share this</p>")
    agree = agreeing(blocks, "Intro line.\n\n" + prose("river", 3) + "\n\nShare this")
    assert [b.block.plain()[:22] for b in agree] == ["The river survey began"]  # short blocks never agree


def test_markers_are_whole_tokens_and_never_the_body() -> None:
    root = lxml_html.fromstring(
        "<html><body class='has-comments'><div id='related-posts'><p id='a'>x</p></div>"
        "<div class='commentary-wrap'><p id='b'>y</p></div><p id='c'>z</p></body></html>"
    )
    assert marked(root.get_element_by_id("a"))
    assert not marked(root.get_element_by_id("b"))  # "commentary" is not "comment"
    assert not marked(root.get_element_by_id("c"))  # the body's classes describe the page


def test_article_markup() -> None:
    def meta_of(head: str, body: str = "<p>x</p>") -> tuple:
        tree = lxml_html.document_fromstring(f"<html><head>{head}</head><body>{body}</body></html>")
        return read_meta(tree, BASE), tree

    ld = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle", "headline": "h"})
    assert is_article(*meta_of('<meta property="og:type" content="article">'))
    assert is_article(*meta_of(f'<script type="application/ld+json">{ld}</script>'))
    assert is_article(*meta_of("", "<article><p>one story</p></article>"))
    assert not is_article(*meta_of("", "<article>card</article><article>card</article>"))  # cards, not a story
    assert not is_article(*meta_of('<meta property="og:type" content="website">'))


def test_thin_article_beside_link_lists_keeps_trafilatura_text() -> None:
    items = "".join(f"<li><a href='/r/{j}'>Popular story {j} of the day on the river</a></li>" for j in range(18))
    body = (
        "<div class='main'><article><h1>Short note</h1><p>The river survey closes on Friday at noon sharp.</p>"
        f"<p>Results follow next week in the usual place.</p></article><ol class='rank'>{items}</ol></div>"
    )
    doc = extract(page(body, OG_ARTICLE), BASE)
    assert "river survey closes on Friday" in doc.text
    assert "Popular story" not in doc.text


def test_dedupe_keeps_a_single_repeat_only_when_asked() -> None:
    a, b, c = (Block("paragraph", text=prose(t, 2)) for t in ("river", "glacier", "harbour"))
    refrain = [a, b, a, c]
    passage = [a, b, c, a, b]
    assert dedupe(refrain, runs_only=True) == refrain  # one block said again on its own stays
    assert dedupe(passage, runs_only=True) == [a, b, c]  # a passage rendered twice goes
    assert dedupe(refrain) == [a, b, c]


def test_news_article_naming_its_subscription_product_is_not_a_product_page() -> None:
    head = '<meta property="og:type" content="article">'
    body = ('<div itemscope itemtype="http://schema.org/NewsArticle"><p>story</p>'
            '<div itemprop="isPartOf" itemscope itemtype="http://schema.org/Product"></div></div>')
    tree = lxml_html.document_fromstring(f"<html><head>{head}</head><body>{body}</body></html>")
    assert not read_meta(tree, BASE).is_product()
    shop = lxml_html.document_fromstring('<html><body><div itemscope itemtype="http://schema.org/Product">'
                                         "<p>kettle</p></div></body></html>")
    assert read_meta(shop, BASE).is_product()
