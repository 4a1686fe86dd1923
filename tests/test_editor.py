"""The editor over the verified report (agents/editor.py): the issue's defects, each a pure-function case."""

from __future__ import annotations

from typing import Any

from agents.editor import (
    edit_report,
    folded,
    resolved,
    said_once,
    tidy,
    title_fits,
    whole_sentence,
    whole_title,
)

QUESTION = ("The youngest male model ever to participate in Seoul Fashion Week stars with Park Hae-jin and Kang "
            "So-ra in a TV series that last aired on what date?")
DOCTOR = "Doctor Stranger is a 2014 South Korean television series starring Lee Jong-suk, Park Hae-jin and Kang So-ra."
LEE = "Lee Jong-suk is the youngest male model ever to participate in Seoul Fashion Week."


def s(text: str, *ids: str) -> dict[str, Any]:
    return {"text": text, "chunk_ids": list(ids), "status": "supported"}


def test_repeats_are_said_once_the_better_cited_kept_and_the_chain_first() -> None:
    sections = [
        {"title": "Lee Jong-suk", "sentences": [s(LEE, "a"), s(DOCTOR, "b"), s("Lee Jong-suk began as a runway model "
                                                                          "in Seoul.", "a")]},
        {"title": "Doctor Stranger", "sentences": [s(DOCTOR.replace(" television", " TV"), "b", "c"), s(LEE, "a")]},
    ]
    out = said_once([s(LEE, "a")], sections)  # the answer's chain holds LEE: no section repeats it
    texts = [x["text"] for sec in out for x in sec["sentences"]]
    assert LEE not in texts
    assert texts.count(DOCTOR) == 0 and len([t for t in texts if t.startswith("Doctor Stranger")]) == 1
    assert out[0]["sentences"][0]["chunk_ids"] == ["b", "c"]  # the better-cited twin, in the first one's place


def test_an_off_topic_sentence_goes_even_when_supported() -> None:
    sections = [{"title": "Introduction", "sentences": [
        s(DOCTOR, "b"),
        s("PJI Korea Co, Ltd. is a Korean pizza franchise headquartered in Seoul, Korea, established in 2005.", "p"),
        s("Based on the same-titled webtoon, it aired on KBS2.", "k"),
        s("Lee Jong-suk began his career as a runway model.", "a"),
        s("Doctor Stranger aired for 20 episodes.", "b")]}]
    out = edit_report(QUESTION, sections, [], subquestions={}, bridges=["Lee Jong-suk", "Doctor Stranger"], texts={})
    texts = [x["text"] for x in out[0]["sentences"]]
    assert texts == [DOCTOR, "Lee Jong-suk began his career as a runway model.", "Doctor Stranger aired for 20 "
                     "episodes."]


def test_an_unresolved_it_is_kept_only_beside_the_sentence_naming_it() -> None:
    empire = s("It is the third and final book in the 'Empire Trilogy' and was published in 1992.", "e")
    assert resolved([s("Richard Connell wrote The Most Dangerous Game.", "g"), empire]) == \
        [s("Richard Connell wrote The Most Dangerous Game.", "g")]
    named = s("The Hounds of Zaroff is a short story by Richard Connell, published in 1924.", "g")
    it = s("It is inspired by big-game hunting safaris.", "g")
    assert resolved([named, it]) == [named, it]


def test_a_sentence_cut_mid_word_is_made_whole_from_its_chunk_or_dropped() -> None:
    texts = {"g": "The Most Dangerous Game is a short story. The story is inspired by big-game hunting safaris. End.",
             "x": "Something else entirely. The plot is insp"}
    assert whole_sentence(s("The story is insp.", "g"), texts) == \
        s("The story is inspired by big-game hunting safaris.", "g")
    assert whole_sentence(s("The plot is insp.", "x"), texts) is None
    assert whole_sentence(s("The Most Dangerous Game is a short story.", "g"), texts) == \
        s("The Most Dangerous Game is a short story.", "g")
    assert whole_sentence(s("A paraphrase the chunk does not hold.", "g"), texts) is not None
    # trimmed to a length at a word, with no stop: the chunk's whole sentence
    bowden = {"kp": "Killing Pablo is a book by Mark Bowden on the hunt for the Colombian drug lord Pablo Escobar. "
                    "It was published in 2001."}
    assert whole_sentence(s("Killing Pablo is a book by Mark Bowden on the hunt for the Colombian drug lord Pablo",
                            "kp"), bowden) == s(bowden["kp"].split(" It was")[0], "kp")


def test_a_written_sentence_cut_at_the_models_token_limit_is_completed_from_its_chunk() -> None:
    lawless = {"law": "Lawless is an American detective television series starring former NFL player Brian Bosworth "
                      "on the Fox Broadcasting Company that was canceled after one episode. See also Brian Bosworth."}
    cut = s("The series Lawless is an American detective series starring Brian Bosworth on the Fox Broadcasting Co",
            "law")
    assert whole_sentence(cut, lawless) == s(
        "The series Lawless is an American detective series starring Brian Bosworth on the Fox Broadcasting Company "
        "that was canceled after one episode.", "law")
    # its last words nowhere in the chunk: cut back to its last whole clause, or, with none, not printed
    other = s("Lawless starred a former NFL player, and a network canceled it after one epis", "law")
    assert whole_sentence(other, lawless) == s("Lawless starred a former NFL player.", "law")
    assert whole_sentence(s("The club that won three Danish championships did Keld Bordingga", "law"), lawless) is None
    assert whole_sentence(s("Lawless (a series, cut", "law"), lawless) is None  # no clause inside open brackets
    # a sentence with its stop: untouched
    done = s("The series starred Brian Bosworth on the Fox Broadcasting Company.", "law")
    assert whole_sentence(done, lawless) == done


def test_a_sentence_is_not_split_after_an_abbreviation_or_an_initial() -> None:
    from agents.floors import split_sentences

    nardo = "Mariotto di Nardo (c. 1368 – c. 1388–1424) was a Florentine painter. His style is Gothic."
    assert split_sentences(nardo) == ["Mariotto di Nardo (c. 1368 – c. 1388–1424) was a Florentine painter.",
                                      "His style is Gothic."]
    assert split_sentences("William H. Ginsburg (born 1943) was a lawyer. Richard Connell Jr. (born 1893) wrote.") \
        == ["William H. Ginsburg (born 1943) was a lawyer.", "Richard Connell Jr. (born 1893) wrote."]
    # quoted, or an abbreviation the splitter does not know, inside brackets that close soon after
    assert split_sentences('Mariotto di Nardo di Cione ("fl". 1388–1424) was a Florentine painter. He worked.') \
        == ['Mariotto di Nardo di Cione ("fl". 1388–1424) was a Florentine painter.', "He worked."]
    assert split_sentences("Olearia (syn. Eurybia Cass.) is a genus. It has 180 species.") == \
        ["Olearia (syn. Eurybia Cass.) is a genus.", "It has 180 species."]
    assert split_sentences("A list (one. Two.\nThree) ends. Then (a note. Another.") == \
        ["A list (one.", "Two.", "Three) ends.", "Then (a note.", "Another."]
    assert split_sentences("A heading ends in Inc.\nThe next line. And 1999 was a year.") == \
        ["A heading ends in Inc.", "The next line.", "And 1999 was a year."]
    # the piece a split after "c." left, printed in a 1.5B's report, is made whole from its chunk
    assert whole_sentence(s("1388–1424) was a Florentine painter.", "n"), {"n": nardo}) == \
        s("Mariotto di Nardo (c. 1368 – c. 1388–1424) was a Florentine painter.", "n")


def test_markup_debris_from_the_page_is_tidied_and_nothing_else_changes() -> None:
    peart = ("Neil Ellwood Peart, {'1': \", '2': \", '3': \", '4': \"} ( ; born September 12, 1952), is a "
             "Canadian-American musician.")
    assert tidy(peart) == "Neil Ellwood Peart (born September 12, 1952), is a Canadian-American musician."
    assert tidy("It is known as Tottenham ( ) or Spurs.") == "It is known as Tottenham or Spurs."
    giotto = "Giotto di Bondone ( 1270 – 1337), known as Giotto (] )."
    assert tidy(giotto) == "Giotto di Bondone (1270 – 1337), known as Giotto."
    # a short page's title run into its first sentence by the extractor; a name that repeats itself is left alone
    assert tidy("The Hawk (1935 film) The Hawk is a 1935 American Western film.") == \
        "The Hawk is a 1935 American Western film."
    assert tidy("Hugo Rodríguez Romero Hugo Rodríguez Romero (born 30 December 1989) is a footballer.") == \
        "Hugo Rodríguez Romero (born 30 December 1989) is a footballer."
    assert tidy("Duran Duran are an English band.") == "Duran Duran are an English band."
    assert tidy("New York, New York is a song.") == "New York, New York is a song."
    for clean in ("A claim (with a note), and [1] kept.", "Efficiency rose (from 3% to 25%), then fell, (a) first."):
        assert tidy(clean) == clean
    edited = edit_report("When was Neil Peart born?", [{"title": "Neil Peart", "sentences": [
        {"text": peart, "chunk_ids": ["c1"]}, {"text": "Neil Peart drummed for Rush.", "chunk_ids": ["c1"]}]}], [],
        subquestions={}, bridges=[], texts={"c1": peart})
    assert edited[0]["sentences"][0]["text"].startswith("Neil Ellwood Peart (born September 12, 1952)")


def test_a_title_cut_mid_phrase_is_made_from_its_subquestion() -> None:
    cut = "What aerospace manufacturer and space flight services company is supported by at"
    assert not title_fits(cut) and title_fits("The Hounds of Zaroff's Publication")
    sub = "Which aerospace company does the founder of PayPal run?"
    assert whole_title(cut, [sub]) == "Which aerospace company does the founder of PayPal run"
    long_sub = ("What aerospace manufacturer and space flight services company headquartered in Hawthorne, California "
                "is supported by at least one of the founders?")
    title = whole_title(cut, [long_sub])
    assert len(title) <= 80 and title_fits(title) and long_sub.startswith(title)


def test_thin_and_repeating_sections_fold_into_a_neighbour() -> None:
    sections: list[dict[str, Any]] = [
        {"title": "A", "sentences": [s("one", "a"), s("two", "b")]},
        {"title": "B", "sentences": [s("three", "c")]},
        {"title": "C", "sentences": []},
    ]
    assert folded(sections) == [{"title": "A", "sentences": [s("one", "a"), s("two", "b"), s("three", "c")]}]
    twice = [{"title": "Seoul Fashion Week", "sentences": [s(LEE, "a"), s(DOCTOR, "b")]},
             {"title": "seoul fashion  week", "sentences": [s("Lee Jong-suk began as a runway model in Seoul.", "a")]}]
    out = edit_report(QUESTION, twice, [], subquestions={}, bridges=["Lee Jong-suk"], texts={})
    assert len(out) == 1 and len(out[0]["sentences"]) == 3


def test_length_caps_sentences_and_sections() -> None:
    many = [s(f"Lee Jong-suk starred in Doctor Stranger episode {n} of 2014.", f"c{n}") for n in range(10)]
    sections = [{"title": f"Part {n}", "sentences": many[:]} for n in range(5)]
    subs = {f"Part {n}": [f"Part {n} question"] for n in range(5)}
    short = edit_report(QUESTION, sections, [], subquestions=subs, bridges=["Lee Jong-suk"], texts={}, length="short")
    assert len(short) <= 3 and all(len(x["sentences"]) <= 2 for x in short)


def test_the_length_flag_reaches_the_runs_limits_and_the_drafter_prompt() -> None:
    import argparse

    from agents.run.budget import Limits
    from prompts import render
    from ui.cli import engine

    parser = argparse.ArgumentParser()
    engine.add_output_arguments(parser)
    request = engine.request_from(parser.parse_args(["--length", "short"]), ("md",))
    assert request.budget.limits(Limits()).length == "short"
    assert engine.request_from(parser.parse_args([]), ("md",)).budget.limits(Limits()).length == "standard"
    fixed = {"language": "en", "question": "q", "brief": "b", "section": "s", "findings": [], "facts": [],
             "contradictions": [], "chunks": []}
    assert "one or two sentences" in render("drafter", **fixed, length="short")[0]["content"]
    assert "three to five sentences" in render("drafter", **fixed)[0]["content"]  # no length given: standard


def test_beside_an_answers_chain_a_distractor_sharing_the_questions_terms_goes() -> None:
    question = ("Which Canadian rock band released a song called \"Counterparts\" and had a drummer who was inducted "
                "into the Modern Drummer Hall of Fame?")
    peart = s("Neil Peart is a Canadian drummer, best known as the drummer for the rock band Rush.", "peart")
    hero = s("\"Nobody's Hero\" is a song by the rock band Rush from the album \"Counterparts\".", "hero")
    baker = s("Ginger Baker was inducted into the Modern Drummer Hall of Fame in 2008 as a rock drummer.", "baker")
    moon = s("Keith Moon was inducted into the Modern Drummer Hall of Fame in 1982.", "moon")
    kaye = s("Tony Kaye was inducted into the Rock and Roll Hall of Fame as a member of Yes.", "kaye")
    # "Canadian" describes what is asked for ("Which Canadian rock band"): no anchor, though few pages name it
    hollowick = s("Hollowick is a Canadian rock band from Oshawa, formerly called Rides Again.", "hollowick")
    inducted = " He was inducted into the Modern Drummer Hall of Fame in 1983."
    texts = {"peart": peart["text"] + inducted, "hero": hero["text"], "baker": baker["text"], "moon": moon["text"],
             "kaye": kaye["text"], "hollowick": hollowick["text"]}
    sections = [{"title": "Findings", "sentences": [hero, baker, moon, kaye, hollowick]}]
    kept = edit_report(question, sections, [peart], subquestions={}, bridges=["Neil Peart"], texts=texts,
                       answer_text="Rush")
    # "Nobody's Hero" names the answer; the three drummers share the question's terms (and its Hall of Fame,
    # which most pages read name) but not its chain
    assert [x["text"] for sec in kept for x in sec["sentences"]] == [hero["text"]]
    # with no answer printed, the topic rules alone decide
    loose = edit_report(question, sections, [], subquestions={}, bridges=[], texts=texts)
    assert baker["text"] in [x["text"] for sec in loose for x in sec["sentences"]]


def test_a_questions_name_anchors_only_a_sentence_of_a_page_about_it() -> None:
    question = "Who was born earlier, Simone Bolelli or Caroline Wozniacki?"
    bolelli = s("Simone Bolelli (born 8 October 1985) is an Italian professional tennis player.", "bolelli")
    wozniacki = s("Caroline Wozniacki (born 11 July 1990) is a Danish professional tennis player.", "wozniacki")
    doubles = s("Simone Bolelli and Andreas Seppi were the defending champions, but Bolelli chose to compete in "
                "São Paulo instead.", "dubai")
    texts = {"bolelli": bolelli["text"], "wozniacki": wozniacki["text"], "dubai": doubles["text"]}
    titles = {"bolelli": "Simone Bolelli", "wozniacki": "Caroline Wozniacki",
              "dubai": "2017 Dubai Tennis Championships – Men's Doubles"}
    sections = [{"title": "Findings", "sentences": [wozniacki, doubles]}]
    kept = edit_report(question, sections, [bolelli], subquestions={}, bridges=[], texts=texts,
                       answer_text="Simone Bolelli", titles=titles)
    # Wozniacki's page is about her; the tournament's page only mentions Bolelli (a distractor page cited), and an
    # answer that is one of the question's options anchors no more than the question's names do
    assert [x["text"] for sec in kept for x in sec["sentences"]] == [wozniacki["text"]]


def test_a_bridge_name_anchors_a_sentence_only_when_a_page_read_is_about_it() -> None:
    question = "Which person went into space at a later date, Sigmund Jähn or Christer Fuglesang?"
    jahn = s("Sigmund Jähn (born 1937) is a German cosmonaut who flew in space in 1978.", "jahn")
    fuglesang = s("Christer Fuglesang (born 1957) is a Swedish astronaut who first flew in space in 2006.", "fug")
    merbold = s("Ernst Messerschmid (born 1945) is a German physicist and former astronaut.", "mess")
    kolb = s("Soyuz 31 carried Sigmund Jähn to the Salyut 6 station.", "soyuz")
    texts = {c: x["text"] for c, x in (("jahn", jahn), ("fug", fuglesang), ("mess", merbold), ("soyuz", kolb))}
    titles = {"jahn": "Sigmund Jähn", "fug": "Christer Fuglesang", "mess": "Ernst Messerschmid", "soyuz": "Soyuz 31"}
    sections = [{"title": "Findings", "sentences": [merbold, kolb]}]
    kept = edit_report(question, sections, [jahn, fuglesang], subquestions={}, bridges=["German", "Soyuz 31"],
                       texts=texts, answer_text="Christer Fuglesang", titles=titles)
    heading = s("Soyuz 31", "soyuz")  # the page's title as a sentence: a heading, no statement
    assert edit_report(question, [{"title": "Findings", "sentences": [heading, kolb]}], [jahn, fuglesang],
                       subquestions={}, bridges=["Soyuz 31"], texts=texts, answer_text="Christer Fuglesang",
                       titles=titles)[0]["sentences"] == [kolb]
    # "German" is a bridge of the chain, but no page read is about it: the other German astronaut's page goes;
    # "Soyuz 31" is the title of a page read, so its sentence stays
    assert [x["text"] for sec in kept for x in sec["sentences"]] == [kolb["text"]]


def test_the_answers_chain_is_printed_whole_once_and_never_about_the_question() -> None:
    from agents.editor import edit_chain

    schools = ("Rochester Community Schools District serves Rochester and Rochester Hills, in the U.S. state of "
               "Michigan. It has 21 buildings.")
    texts = {"r": schools, "v": "Van Hook Township is a township in Mountrail County, North Dakota."}
    chain = [s("Van Hook Township is a township in Mountrail County, North Dakota.", "v"),
             s("Rochester Community Schools District serves Rochester and Rochester Hills, in the U.S. state of", "r"),
             s("Rochester Community Schools District serves Rochester and Rochester Hills, in the U.S. state of "
               "Michigan.", "r"),
             s("The research question asks for the seat of the county where Van Hook Township is located.", "v")]
    assert [x["text"] for x in edit_chain(chain, texts)] == [chain[0]["text"], chain[2]["text"]]
    # the editor drops a section's sentence about the question too
    sections = [{"title": "Introduction", "sentences": [chain[3], chain[0]]}]
    kept = edit_report("What is the seat of the county where Van Hook Township is located?", sections, [],
                       subquestions={}, bridges=[], texts=texts)
    assert [x["text"] for sec in kept for x in sec["sentences"]] == [chain[0]["text"]]


def test_the_editor_says_once_what_the_eval_counts_as_a_repeat() -> None:
    """One definition of a repeat: the eval's content words folded "trophies" and "trophys" alike, the editor's
    did not, so a pair the editor kept counted as a repeat (0.5B, Keld Bordinggaard)."""
    from agents.editor import said_once
    from ui.eval.score import dup_sentences

    pair = ["Bagger played for Brøndby and won trophies, scoring goals.",
            "Bagger, playing for Brøndby, won trophys and scored goals there."]
    assert dup_sentences(pair) == 1
    edited = said_once([], [{"title": "Career", "sentences": [{"text": t, "chunk_ids": ["c"]} for t in pair]}])
    assert [s["text"] for s in edited[0]["sentences"]] == [pair[1]]  # the longer of two equally cited
    assert dup_sentences([s["text"] for s in edited[0]["sentences"]]) == 0
