"""Each claim cited to its own source (agents/verifier.py): names and numbers checked per cited chunk."""

from __future__ import annotations

from agents.verifier import apply_verdict, claims, own_citations

TEXTS = {
    "1": "My Lawyer, Mr. Jo is a 2016 South Korean television series starring Park Shin-yang and Kang So-ra. "
         "Based on the same-titled webtoon, it aired on KBS2.",
    "3": "Doctor Stranger is a 2014 South Korean television series starring Lee Jong-suk, Jin Se-yeon, Park Hae-jin "
         "and Kang So-ra. It aired on SBS from May 5 to July 8, 2014 for 20 episodes.",
    "4": "PJI Korea Co, Ltd. is a Korean pizza franchise headquartered in Seoul, Korea, established in 2005.",
    "5": "The Chungcheong dialect is spoken in the Chungcheong region of South Korea.",
    "6": "Lee Jong-suk is the youngest male model ever to participate in Seoul Fashion Week.",
}


def test_a_claim_stitched_from_a_passage_about_another_subject_fails() -> None:
    stitched = "Doctor Stranger aired on KBS2 from May 5 to July 8, 2014."
    kept, whole = own_citations(stitched, ["1", "3"], TEXTS)
    assert kept == ["1", "3"] and not whole  # KBS2 is only in [1], which is not about Doctor Stranger
    assert own_citations("Doctor Stranger aired on SBS from May 5 to July 8, 2014.", ["1", "3"], TEXTS)[1]
    # the union of [1] and [3] holds every name: the old check let it through
    assert all(any(w in (TEXTS["1"] + TEXTS["3"]) for w in c.split()) for c in claims(stitched))


def test_a_citation_that_supports_nothing_in_its_sentence_is_dropped() -> None:
    sentence = "Doctor Stranger is a 2014 South Korean series that ran for 20 episodes."
    kept, whole = own_citations(sentence, ["3", "4", "5"], TEXTS)
    assert kept == ["3"] and whole


def test_claims_spread_over_passages_that_each_name_the_subject_hold() -> None:
    sentence = "Lee Jong-suk, the youngest male model at Seoul Fashion Week, starred in Doctor Stranger."
    assert own_citations(sentence, ["6", "3"], TEXTS) == (["6", "3"], True)


def test_the_source_title_names_a_passages_subject() -> None:
    texts = {"a": "It aired on SBS from May 5 to July 8, 2014.", "b": "It aired on KBS2 in 2016."}
    titles = {"a": "Doctor Stranger", "b": "My Lawyer, Mr. Jo"}
    assert own_citations("Doctor Stranger aired on SBS.", ["a", "b"], texts, titles) == (["a"], True)
    assert not own_citations("Doctor Stranger aired on KBS2 in 2014.", ["a", "b"], texts, titles)[1]


def test_the_judges_supported_cannot_pass_a_stitched_sentence() -> None:
    sentence = {"text": "Doctor Stranger aired on KBS2 from May 5 to July 8, 2014.", "chunk_ids": ["1", "3"]}
    verdict = {"verdict": "supported", "chunk_ids": [], "rewrite": ""}
    assert apply_verdict(sentence, verdict, TEXTS) is None
    rewrite = {"verdict": "rewrite", "chunk_ids": ["3"], "rewrite": "Doctor Stranger aired from May 5 to July 8, 2014."}
    assert apply_verdict(sentence, rewrite, TEXTS) == {"text": rewrite["rewrite"], "chunk_ids": ["3"],
                                                       "status": "rewritten"}


def test_a_one_word_name_opening_a_sentence_is_a_claim_when_the_passages_use_it_as_a_name() -> None:
    texts = {
        "copeland": "Stewart Copeland is an American drummer. He was inducted into the Modern Drummer Hall of Fame.",
        "hollowick": "Hollowick is a Canadian rock band. Kelly performed the drums on Hollowick's upcoming album.",
        "pumps": "Heat pumps move heat. In cold climates a heat pump works less well.",
    }
    stitched = "Hollowick had a drummer who was inducted into the Modern Drummer Hall of Fame."
    assert "Hollowick" in claims(stitched, texts.values()) and "Hollowick" not in claims(stitched)
    _kept, whole = own_citations(stitched, ["copeland"], texts)
    assert not whole  # Hollowick is nowhere in the passage about Copeland
    # a capitalized common word opening a sentence is how sentences begin: the passages use it in lower case
    assert claims("Heat pumps lose efficiency in cold climates.", texts.values()) == []
    assert own_citations("Heat pumps move heat less well in cold climates.", ["pumps"], texts)[1]


def test_a_one_word_name_opening_a_sentence_is_a_claim_when_the_question_names_it() -> None:
    """The 1.5B wrote "Sutera is a shrub belonging to the family Asteraceae [1]", [1] a page on Olearia canescens;
    the passages open sentences with "Sutera" only, but the question names it: the sentence is stitched."""
    texts = {"olearia": "Olearia canescens is a shrub belonging to the family Asteraceae.",
             "sutera": 'Sutera is a "comune" (municipality) in the Province of Caltanissetta in Sicily.'}
    question = "Are Sutera and Rhodotypos both types of shrub?"
    stitched = "Sutera is a shrub belonging to the family Asteraceae."
    assert own_citations(stitched, ["olearia"], texts)[1]  # read without the question: "Sutera" opens a sentence
    assert not own_citations(stitched, ["olearia"], texts, question=question)[1]
    assert claims(stitched, texts.values(), question) == ["Sutera", "Asteraceae"]
    supported = {"verdict": "supported", "chunk_ids": [], "rewrite": ""}
    assert apply_verdict({"text": stitched, "chunk_ids": ["olearia"]}, supported, texts, question=question) is None
