"""The parts of ``quarry eval``: datasets, the loopback test web, scoring and the HTML page."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from ui.errors import BadInputError
from ui.eval.dataset import DatasetError, Item, Page, load_dataset
from ui.eval.html import render_eval_html
from ui.eval.score import (
    METRICS,
    answer_in_text,
    cited_precision,
    dup_sentences,
    exact_match,
    f1,
    normalize_answer,
    score_run,
    summarize,
    supports,
)
from ui.eval.web import EvalWeb, slugify

HOTPOT: dict[str, Any] = {
    "_id": "h1", "question": "Which band did Neil Peart drum for?", "answer": "Rush", "type": "bridge",
    "supporting_facts": [["Neil Peart", 0], ["Rush (band)", 1]],
    "context": [["Neil Peart", ["Neil Peart was a drummer.", " He played in Rush."]],
                ["Rush (band)", ["Rush was a Canadian band.", " It formed in 1968."]],
                ["Neil Peart", ["He also wrote books."]],
                ["Neil Peart", ["Neil Peart was a drummer.", " He played in Rush."]]],
}
MUSIQUE: dict[str, Any] = {
    "id": "3hop1__1_2_3", "question": "Where was the author of X born?", "answer": "Paris",
    "answer_aliases": ["Paris, France"],
    "paragraphs": [{"idx": 0, "title": "X", "paragraph_text": "X was written by Y.", "is_supporting": True},
                   {"idx": 1, "title": "Y", "paragraph_text": "Y was born in Paris.", "is_supporting": True},
                   {"idx": 2, "title": "Z", "paragraph_text": "Z is a river.", "is_supporting": False},
                   {"idx": 3, "title": "Y", "paragraph_text": "Y was born in Paris.", "is_supporting": True}],
    "question_decomposition": [{"id": 1}, {"id": 2}, {"id": 3}],
}
GENERIC: dict[str, Any] = {"question": "What colour is the sky?", "answer": "blue", "aliases": ["azure"],
           "pages": [{"title": "Sky", "text": "The sky is blue."}, {"title": "Sea", "text": "The sea is wet."}],
           "supporting": ["Sky"]}


def write_jsonl(path: Path, lines: list[Any]) -> Path:
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    return path


# -- datasets ------------------------------------------------------------------------------------

def test_hotpotqa_line_loads_with_pages_merged_by_title(tmp_path: Path) -> None:
    [item] = load_dataset(write_jsonl(tmp_path / "h.jsonl", [HOTPOT]))
    assert (item.id, item.answer, item.aliases, item.kind, item.hops) == ("h1", "Rush", (), "bridge", 2)
    assert item.supporting == ("Neil Peart", "Rush (band)")
    assert [p.title for p in item.pages] == ["Neil Peart", "Rush (band)"]
    assert item.pages[0].text == "Neil Peart was a drummer. He played in Rush.\n\nHe also wrote books."


def test_musique_line_loads_kind_hops_aliases_and_supporting(tmp_path: Path) -> None:
    [item] = load_dataset(write_jsonl(tmp_path / "m.jsonl", [MUSIQUE]))
    assert (item.id, item.kind, item.hops, item.aliases) == ("3hop1__1_2_3", "3hop", 3, ("Paris, France",))
    assert item.supporting == ("X", "Y")
    assert item.pages == (Page("X", "X was written by Y."), Page("Y", "Y was born in Paris."),
                          Page("Z", "Z is a river."))


def test_musique_kind_from_decomposition_when_id_has_no_prefix(tmp_path: Path) -> None:
    line = {**MUSIQUE, "id": "q7", "question_decomposition": [{"id": 1}, {"id": 2}]}
    [item] = load_dataset(write_jsonl(tmp_path / "m.jsonl", [line]))
    assert (item.kind, item.hops) == ("2hop", 2)


def test_generic_line_loads_with_defaults_and_blank_lines_skipped(tmp_path: Path) -> None:
    typed = {**GENERIC, "id": "g2", "type": "lookup", "hops": 3, "answer": 1912}
    items = load_dataset(write_jsonl(tmp_path / "g.jsonl", [GENERIC, "", "   ", typed]))
    assert [(i.id, i.kind, i.hops) for i in items] == [("line-1", "generic", 1), ("g2", "lookup", 3)]
    assert items[0].aliases == ("azure",) and items[1].answer == "1912"
    assert items[0].pages[1] == Page("Sea", "The sea is wet.")


@pytest.mark.parametrize(("line", "what"), [
    ("{not json", "it is not valid JSON"),
    ("[1, 2]", "it is a list, not a JSON object"),
    ({k: v for k, v in GENERIC.items() if k != "answer"}, "'answer' is missing"),
    ({**GENERIC, "question": ["x"]}, "'question' is a list, not a string"),
    ({**GENERIC, "pages": []}, "'pages' has no pages"),
    ({**GENERIC, "aliases": "azure"}, "'aliases' must be a list of strings"),
    ({**GENERIC, "hops": 0}, "'hops' must be a positive integer"),
    ({**HOTPOT, "context": [["A", "not a list"]]}, "each 'context' entry must be [title, [sentences]]"),
])
def test_bad_line_is_one_sentence_with_file_and_line(tmp_path: Path, line: Any, what: str) -> None:
    path = write_jsonl(tmp_path / "eval.jsonl", [GENERIC, "", line])
    with pytest.raises(DatasetError) as err:
        load_dataset(path)
    message = str(err.value)
    assert message.startswith(f"eval.jsonl line 3: {what}")
    assert message.endswith(".") and "\n" not in message
    assert isinstance(err.value, BadInputError) and err.value.exit_code == 2


def test_a_line_whose_supporting_titles_name_no_page_is_skipped_and_counted(tmp_path: Path) -> None:
    unsupported = {**MUSIQUE, "paragraphs": [{**MUSIQUE["paragraphs"][0], "is_supporting": False}]}
    lines: list[Any] = [{**GENERIC, "supporting": ["Moon"]}, GENERIC, unsupported, {**GENERIC, "id": "b"}]
    skipped: list[str] = []
    items = load_dataset(write_jsonl(tmp_path / "eval.jsonl", lines), skip=1, skipped=skipped)
    assert [i.id for i in items] == ["b"]  # skipped lines count toward neither --skip nor --n
    assert skipped == ["line 1: the supporting title 'Moon' names no page in 'pages'",
                       "line 3: no page is marked as supporting"]
    with pytest.raises(DatasetError, match=r"holds no questions \(its 1 unusable lines skipped\)"):
        load_dataset(write_jsonl(tmp_path / "bad.jsonl", [lines[0]]), skipped=[])


def test_missing_file_empty_file_and_empty_selection_are_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"^The dataset .*nope.jsonl does not exist"):
        load_dataset(tmp_path / "nope.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"^empty.jsonl holds no questions"):
        load_dataset(tmp_path / "empty.jsonl")
    path = write_jsonl(tmp_path / "two.jsonl", [GENERIC, {**GENERIC, "id": "b"}])
    with pytest.raises(DatasetError, match=r"^two.jsonl holds 2 questions, none left after skipping 5"):
        load_dataset(path, skip=5)
    with pytest.raises(DatasetError, match="the id 'line-1' repeats line 1"):
        load_dataset(write_jsonl(tmp_path / "dup.jsonl", [GENERIC, {**GENERIC, "id": "line-1"}]))


def test_skip_and_n_select_questions_and_later_lines_are_not_read(tmp_path: Path) -> None:
    lines: list[Any] = [{**GENERIC, "id": f"q{i}"} for i in range(5)] + ["{broken"]
    path = write_jsonl(tmp_path / "many.jsonl", lines)
    assert [i.id for i in load_dataset(path, skip=1, n=2)] == ["q1", "q2"]
    assert [i.id for i in load_dataset(path, n=1)] == ["q0"]
    with pytest.raises(DatasetError, match=r"many\.jsonl line 6"):
        load_dataset(path, skip=3)


# -- the test web ----------------------------------------------------------------------------------

HOSTILE = "<script>alert(1)</script> Trap"
JS_TITLE = "javascript:alert(1)"


def _items() -> list[Item]:
    alpha = Page("Alpha Centauri", "Alpha Centauri is a star system. Its nearest star is Proxima Centauri. "
                                   "See also the Trap described elsewhere.")
    proxima = Page("Proxima Centauri", "Proxima Centauri is a red dwarf 4.24 light-years away. It orbits "
                                       "alpha centauri at 13000 au.")
    hostile = Page(HOSTILE, "A page whose text says <img src=x onerror=alert(1)> and javascript:alert(2).")
    js = Page(JS_TITLE, "A page titled like a script URL.")
    first = Item("q1", "How far away is Proxima Centauri?", "4.24 light-years", ("4.2 ly",),
                 (alpha, proxima), ("Proxima Centauri",), "bridge", 2)
    more = Page("Alpha Centauri", "Alpha Centauri is a star system. Its nearest star is Proxima Centauri. "
                                  "See also the Trap described elsewhere.\n\nIt is in Centaurus.")
    second = Item("q2", "What is in Centaurus?", "Alpha Centauri", (), (more, hostile, js),
                  ("Alpha Centauri", HOSTILE), "comparison", 3)
    return [first, second]


@pytest.fixture
def web() -> Iterator[EvalWeb]:
    with EvalWeb(_items()) as served:
        yield served


def test_web_serves_a_chromed_page_per_title_with_merged_paragraphs(web: EvalWeb) -> None:
    assert web.titles == ["Alpha Centauri", "Proxima Centauri", HOSTILE, JS_TITLE]
    assert web.page_text("Alpha Centauri").endswith("elsewhere.\n\nIt is in Centaurus.")
    assert web.page_text("Alpha Centauri").count("is a star system") == 1
    response = httpx.get(web.url_for("Alpha Centauri"))
    assert response.status_code == 200 and response.http_version == "HTTP/1.1"
    assert int(response.headers["content-length"]) == len(response.content)
    body = response.text
    for part in ("<header>", "<nav>", "<aside>", "Contents", "Random article", "<footer>", "Privacy policy",
                 "<main><article id=\"article\"><h1 id=\"top\">Alpha Centauri</h1><p>Alpha Centauri is a star",
                 "<p>It is in Centaurus.</p>"):
        assert part in body
    visible = web.visible_text("Alpha Centauri")
    assert "It is in Centaurus." in visible and "Privacy policy" in visible and "font-family" not in visible


def test_web_escapes_hostile_titles_and_text(web: EvalWeb) -> None:
    body = httpx.get(web.url_for(HOSTILE)).text
    assert "<script>" not in body and "<img" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Trap" in body and "&lt;img src=x onerror=alert(1)&gt;" in body
    assert 'href="javascript' not in body and 'href="javascript' not in httpx.get(web.url_for(JS_TITLE)).text
    assert web.slug_for(JS_TITLE) == "javascript_alert_1"
    assert HOSTILE in web.visible_text(HOSTILE)  # shown as text, in the heading


def test_web_see_also_links_pages_the_text_mentions(web: EvalWeb) -> None:
    assert web.see_also("Alpha Centauri") == ["Proxima Centauri"]  # "Trap" alone is not the hostile title
    assert web.see_also("Proxima Centauri") == ["Alpha Centauri"]  # case-insensitive
    body = httpx.get(web.url_for("Proxima Centauri")).text
    assert '<section id="see-also"><h2>See also</h2><ul><li><a href="/wiki/Alpha_Centauri">Alpha Centauri</a>' in body


def test_web_home_robots_and_404(web: EvalWeb) -> None:
    home = httpx.get(web.base_url + "/")
    assert home.status_code == 200 and '<a href="/wiki/Proxima_Centauri">' in home.text
    robots = httpx.get(web.base_url + "/robots.txt")
    assert robots.text == "User-agent: *\nAllow: /\n" and robots.headers["content-type"].startswith("text/plain")
    assert httpx.get(web.base_url + "/wiki/Nowhere").status_code == 404
    assert httpx.get(web.base_url + "/admin").status_code == 404
    assert httpx.head(web.url_for("Alpha Centauri")).headers["content-length"] == str(
        len(web.page_html("Alpha Centauri").encode()))


def test_web_search_answers_searxng_json_ranked_by_bm25(web: EvalWeb) -> None:
    data = httpx.get(web.base_url + "/search", params={"q": "Proxima Centauri", "format": "json"}).json()
    assert data["query"] == "Proxima Centauri"
    first = data["results"][0]
    assert (first["title"], first["url"]) == ("Proxima Centauri", web.url_for("Proxima Centauri"))
    assert first["content"].startswith("Proxima Centauri is a red dwarf") and len(first["content"]) <= 200
    assert [r["title"] for r in data["results"]] == ["Proxima Centauri", "Alpha Centauri"]
    limited = httpx.get(web.base_url + "/search", params={"q": "centauri", "format": "json", "k": "1"}).json()
    assert len(limited["results"]) == 1
    assert web.search("red dwarf")[0]["title"] == "Proxima Centauri"
    assert web.search("the of and") == [] and web.search("zebra") == []
    assert web.search("titled script")[0]["title"] == JS_TITLE


def test_web_title_for_inverts_url_for(web: EvalWeb) -> None:
    for title in web.titles:
        assert web.title_for(web.url_for(title)) == title
    url = web.url_for("Alpha Centauri")
    assert web.title_for(url + "/") == "Alpha Centauri"
    assert web.title_for(url + "#History") == "Alpha Centauri"
    assert web.title_for(url.replace("Alpha_", "Alpha%5F")) == "Alpha Centauri"
    assert web.title_for(f"http://localhost:{web.host_port.split(':')[1]}/wiki/alpha_centauri") == "Alpha Centauri"
    assert web.title_for("https://en.wikipedia.org/wiki/Alpha_Centauri") is None
    assert web.title_for(web.base_url + "/robots.txt") is None
    assert slugify("Beyoncé (singer)") == "Beyonce_singer" and slugify("!!!") == "page"


def test_web_slugs_stay_unique_and_stop_closes_the_socket() -> None:
    items = [Item("a", "q", "a", (), (Page("A b", "x"), Page("A-b", "y"), Page("A_b", "z")), ("A b",), "k", 1)]
    web = EvalWeb(items).start()
    slugs = {web.slug_for(t) for t in web.titles}
    assert len(slugs) == 3 and "A_b" in slugs
    assert {web.title_for(web.url_for(t)) for t in web.titles} == {"A b", "A-b", "A_b"}
    port = int(web.host_port.split(":")[1])
    url = web.url_for("A b")
    web.stop()
    assert web.url_for("A b") == url and web.title_for(url) == "A b"  # a stopped web still reads its URLs
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


# -- scoring ---------------------------------------------------------------------------------------

def test_squad_normalization_em_and_f1() -> None:
    assert normalize_answer("  The Rush!  band's ") == "rush bands"
    assert exact_match("the Rush.", ["Rush"]) == 1.0 and exact_match("Rush band", ["Rush"]) == 0.0
    assert exact_match("4.2 LY", ["4.24 light-years", "4.2 ly"]) == 1.0  # an alias
    assert f1("Rush band", ["Rush"]) == pytest.approx(2 / 3)
    assert f1("a Canadian rock band", ["Canadian band", "rock"]) == pytest.approx(0.8)
    assert f1("", ["Rush"]) == 0.0 and f1("Toto", ["Rush"]) == 0.0
    assert f1("Paris France", "Paris, France") == 1.0


def test_answer_in_text_needs_whole_tokens() -> None:
    assert answer_in_text("It formed in 1968, in Toronto.", ["1968"])
    assert not answer_in_text("It formed in 19689.", ["1968"])
    assert answer_in_text("Yes, both are American.", ["yes"])
    assert not answer_in_text("Yesterday they were.", ["yes"])
    assert answer_in_text("The band was Rush.", ["Toto", "rush"]) and not answer_in_text("anything", [""])


def test_supports_needs_most_content_tokens_and_every_number() -> None:
    passage = "Proxima Centauri is a red dwarf star 4.24 light-years away, discovered in 1915."
    assert supports("Proxima Centauri is a red dwarf.", [passage])
    assert supports("The red dwarfs are discovered stars.", [passage])  # suffixes fold
    assert not supports("Proxima Centauri is a blue giant with seven planets.", [passage])
    assert not supports("Proxima Centauri was discovered in 1917.", [passage])  # a number missing
    assert supports("Proxima Centauri was discovered in 1915.", ["Nothing here.", passage])
    assert not supports("It is the.", [passage]) and not supports("Proxima Centauri.", [])


def _write_run(folder: Path, web: EvalWeb, report: Any, *, read: list[str],
               extra: Sequence[dict[str, Any]] = ()) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    sources = [{"url": web.url_for(t), "status": "fetched", "source_id": f"s{i}", "title": t, "ref": i + 1}
               for i, t in enumerate(read)] + list(extra)
    (folder / "sources.json").write_text(json.dumps(sources), encoding="utf-8")
    (folder / "manifest.json").write_text(json.dumps({"tokens": {
        "planner": {"calls": 1, "prompt_tokens": 100, "completion_tokens": 20},
        "drafter": {"calls": 2, "prompt_tokens": 300, "completion_tokens": 80}}}), encoding="utf-8")
    if report is not None:
        text = report if isinstance(report, str) else json.dumps(report)
        (folder / "report.json").write_text(text, encoding="utf-8")
    return folder


def _sentence(text: str, ref: int, quote: str) -> dict[str, Any]:
    return {"text": text, "citations": [{"chunk_id": "c", "ref": ref, "quote": quote, "page": None}],
            "status": "verified"}


def _report(web: EvalWeb) -> dict[str, Any]:
    good = _sentence("Proxima Centauri is 4.24 light-years away.", 1,
                     "Proxima Centauri is a red dwarf 4.24 light-years away.")
    return {
        "answer": {"text": "4.24 light-years", "sentences": [good]},
        "sections": [{"title": "Distance", "sentences": [
            good,
            _sentence("Alpha Centauri has nine planets.", 1, "Proxima Centauri is a red dwarf 4.24 light-years away."),
            _sentence("It was mapped by robots.", 2, "A quote nobody ever wrote down anywhere at all."),
            {"text": "An uncited remark here.", "citations": [], "status": "unverified"},
        ]}],
        "references": [{"n": 1, "source_id": "s0", "title": "Proxima Centauri", "url": web.url_for("Proxima Centauri")},
                       {"n": 2, "source_id": "sx", "title": "Alpha", "url": web.url_for("Alpha Centauri") + "/"}],
        "status": "complete",
    }


def test_score_run_good_report(tmp_path: Path, web: EvalWeb) -> None:
    item = _items()[0]
    extra = [{"url": "http://127.0.0.1:1/x", "status": "failed", "source_id": "f", "title": "x"}]
    folder = _write_run(tmp_path / "run", web, _report(web), read=["Proxima Centauri"], extra=extra)
    row = score_run(folder, item, web, exit_code=0, wall_s=12.5)
    assert row["finished"] is True and row["status"] == "complete"
    assert (row["id"], row["kind"], row["hops"], row["answer"], row["predicted"]) == (
        "q1", "bridge", 2, "4.24 light-years", "4.24 light-years")
    assert row["read_recall"] == 1.0 and row["cited_recall"] == 1.0
    assert row["answer_em"] == 1.0 and row["answer_f1"] == 1.0 and row["answer_in_report"] is True
    assert row["citation_support"] == pytest.approx(0.5)  # 2 of 4 cited sentences supported
    assert row["unfetched"] == 2  # reference 2 was never read, and its quote is found nowhere
    assert row["report_words"] == 6 + 6 + 5 + 5 + 4
    assert (row["wall_s"], row["tokens"], row["pages_read"]) == (12.5, 500, 1)
    assert set(METRICS) <= set(row)
    assert row["cited_precision"] == 0.5  # Proxima Centauri (supporting) and Alpha Centauri (not) are cited
    assert row["dup_sentences"] == 1 and row["not_found"] is False  # the answer's sentence said again


def test_dup_sentences_and_cited_precision_and_not_found(tmp_path: Path, web: EvalWeb) -> None:
    assert dup_sentences(["Doctor Stranger is a 2014 South Korean series starring Lee Jong-suk and Kang So-ra.",
                          "Doctor Stranger is a 2014 South Korean TV series starring Lee Jong-suk and Kang So-ra.",
                          "Lee Jong-suk is the youngest male model at Seoul Fashion Week."]) == 1
    assert cited_precision([], ["A"]) is None and cited_precision(["A", "B", "C", "D"], ["A", "B"]) == 0.5
    report = {**_report(web), "answer": {"text": "", "sentences": [], "not_found": True}}
    row = score_run(_write_run(tmp_path / "nf", web, report, read=["Proxima Centauri"]), _items()[0], web,
                    exit_code=0, wall_s=1.0)
    assert row["not_found"] is True and row["predicted"] == "" and summarize([row])["means"]["not_found"] == 1.0


def test_score_run_missing_answer_and_exit_code(tmp_path: Path, web: EvalWeb) -> None:
    report = _report(web)
    del report["answer"]
    folder = _write_run(tmp_path / "old", web, report, read=["Proxima Centauri", "Alpha Centauri"])
    row = score_run(folder, _items()[0], web, exit_code=3, wall_s=1.0)
    assert row["finished"] is True and row["predicted"] == "" and row["answer_em"] == 0.0
    assert row["answer_in_report"] is True  # the sections still say it
    assert row["unfetched"] == 1 and row["citation_support"] == pytest.approx(1 / 3, abs=1e-4)
    assert score_run(folder, _items()[0], web, exit_code=1, wall_s=1.0)["finished"] is False


def test_score_run_broken_or_missing_report_gives_zero_row(tmp_path: Path, web: EvalWeb) -> None:
    broken = _write_run(tmp_path / "broken", web, "{not json", read=["Proxima Centauri"])
    row = score_run(broken, _items()[0], web, exit_code=0, wall_s=2.0)
    assert row["finished"] is False and row["status"] == "unreadable report"
    assert (row["read_recall"], row["answer_f1"], row["citation_support"], row["unfetched"]) == (0.0, 0.0, None, 0)
    assert (row["tokens"], row["pages_read"]) == (500, 1)
    missing = score_run(tmp_path / "never-made", _items()[0], web, exit_code=1, wall_s=0.5)
    assert missing["finished"] is False and missing["status"] == "no report" and missing["tokens"] == 0


def _row(kind: str, hops: int, **values: Any) -> dict[str, Any]:
    base = {m: 0.0 for m in METRICS} | {"finished": True, "answer_in_report": False, "citation_support": None}
    return base | {"id": f"{kind}{hops}{values}", "question": "q", "kind": kind, "hops": hops, "answer": "a",
                   "predicted": "p"} | values


def test_summarize_means_by_kind_and_hops() -> None:
    rows = [_row("bridge", 2, answer_f1=1.0, wall_s=10.0, citation_support=0.5),
            _row("bridge", 3, answer_f1=0.0, wall_s=20.0, finished=False),
            _row("comparison", 2, answer_f1=0.5, wall_s=60.0, answer_in_report=True)]
    summary = summarize(rows)
    assert summary["n"] == 3
    assert summary["means"]["answer_f1"] == 0.5 and summary["means"]["finished"] == pytest.approx(0.6667)
    assert summary["means"]["citation_support"] == 0.5  # None skipped
    assert summary["means"]["answer_in_report"] == pytest.approx(0.3333) and summary["wall_s_median"] == 20.0
    assert summary["by_kind"]["bridge"]["n"] == 2 and summary["by_kind"]["bridge"]["means"]["answer_f1"] == 0.5
    assert summary["by_kind"]["comparison"]["means"]["citation_support"] is None
    assert list(summary["by_hops"]) == ["2", "3"] and summary["by_hops"]["2"]["means"]["wall_s"] == 35.0


# -- eval.html -------------------------------------------------------------------------------------

def test_eval_html_is_safe_and_has_one_chart_per_metric() -> None:
    hostile = '<script>alert("q")</script><img src=x onerror=alert(1)>'
    rows = [_row("bridge", 2, question=hostile, id="q1", answer_f1=0.25, predicted="<b>Rush</b>")]
    floor_rows = [_row("bridge", 2, question=hostile, id="q1", answer_f1=0.75, predicted="Rush & co")]
    result = {"dataset": "evil<set>.jsonl",
              "configs": {"floor": {"summary": summarize(floor_rows), "rows": floor_rows},
                          "model: gemma-3-270m.gguf": {"summary": summarize(rows), "rows": rows}},
              "machine": {"cpu": "<x86>"}, "settings": {"max_pages": 8, "note": "</dd><script>"}}
    page = render_eval_html(result)
    assert "<script" not in page and "<img" not in page and "<b>Rush" not in page
    assert "&lt;script&gt;alert(&#34;q&#34;)&lt;/script&gt;" in page and "Rush &amp; co" in page
    assert "evil&lt;set&gt;.jsonl" in page and "&lt;x86&gt;" in page
    csp = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
    assert f'<meta http-equiv="Content-Security-Policy" content="{csp}">' in page
    assert page.count("<svg") == len(METRICS)
    assert page.count("<rect") == 2 * len(METRICS)
    assert ">0.750</text>" in page and ">0.250</text>" in page  # labelled bars for answer_f1
    assert "model: gemma-3-270m.gguf" in page and "href=" not in page


def test_rows_carry_the_runs_cost_and_summaries_its_mean(tmp_path: Path) -> None:
    from agents.run.cost import run_cost
    from ui.eval.harness import mean_row_cost
    from ui.eval.score import cost_fields

    events = [{"type": "run_started", "ts": 1.0}, {"type": "phase", "phase": "plan", "ts": 1.0},
              {"type": "model_call", "role": "planner", "prompt_tokens": 700, "completion_tokens": 90,
               "seconds": 6.0, "ts": 7.0}, {"type": "run_finished", "status": "complete", "ts": 9.0}]
    (tmp_path / "manifest.json").write_text(json.dumps({"cost": run_cost(events), "mode": {"name": "quick"}}),
                                            encoding="utf-8")
    row = cost_fields(tmp_path)
    assert (row["calls"], row["prompt_tokens"], row["completion_tokens"], row["model_s"]) == (1, 700, 90, 6.0)
    assert row["cost"]["phases"]["plan"]["calls"] == 1 and row["mode"] == "quick"
    assert cost_fields(tmp_path / "missing")["calls"] == 0
    mean = mean_row_cost([{**row, "wall_s": 8.0}, {**cost_fields(tmp_path / "missing"), "wall_s": 2.0}])
    assert mean["calls"] == 0.5 and mean["wall_s"] == 5.0 and mean["roles"]["planner"]["seconds"] == 3.0


def test_eval_settings_point_at_the_test_web_with_no_plugin_or_mcp_server(tmp_path: Path, web: EvalWeb) -> None:
    from agents.settings import McpServerSettings, Settings
    from ui.eval.harness import eval_settings

    mine = Settings(home=tmp_path / "home", mcp_servers={"files": McpServerSettings(command="files-server")})
    own = eval_settings(mine, web, tmp_path / "eval")
    assert own.plugins.load == [] and own.mcp_servers == {}  # no tool past the test web, no tool-choice call
    assert own.search.backends == ["searxng"] and own.search.searxng_url == web.base_url
    assert own.fetch.allow == [web.host_port.rsplit(":", 1)[0]] and own.home == tmp_path / "eval"
    assert mine.plugins.load == "all" and mine.mcp_servers  # the user's settings are left alone
