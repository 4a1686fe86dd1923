"""Either-or and "both" questions answered by comparing each subject's passages (agents/answer/compare.py)."""

from __future__ import annotations

from typing import Any

from agents.answer import choose_answer
from agents.answer.candidates import Statement, options
from agents.answer.chain import passage_statements
from agents.answer.compare import both, compare, sides

BOLELLI = "Simone Bolelli (born 8 October 1985) is an Italian professional tennis player. He plays doubles."
WOZNIACKI = "Caroline Wozniacki (born 11 July 1990) is a Danish former professional tennis player."
KAZAN = "Elia Kazan (September 7, 1909 – September 28, 2003) was an American director."
AKKAD = "Moustapha Akkad (July 1, 1930 – November 11, 2005) was a Syrian-American film producer."
GASHERBRUM = "Gasherbrum II is the 13th highest mountain on Earth, at 8,035 m above sea level."
LANGTANG = "Langtang Ri is a mountain in the Langtang region of Nepal, rising to 7,205 metres."
CROWEA = "Crowea is a genus of three species of flowering plants endemic to Australia."
DRACULA = "Dracula is a genus of orchids with about 118 species, native to the Andes."
SUMMER = "Summer Wars is a 2009 Japanese animated science fiction film directed by Mamoru Hosoda."
KELLS = "The Secret of Kells is a 2009 Irish-French-Belgian animated fantasy film."
SUTERA = "Sutera is a genus of flowering plants in the family Scrophulariaceae, native to southern Africa."
RHODOTYPOS = "Rhodotypos is a genus of deciduous shrub in the rose family, native to China and Japan."
POTHOS = "Pothos is a genus of flowering plants in the family Araceae, native to Asia."
TIBOUCHINA = "Tibouchina is a genus of flowering plants in the family Melastomataceae, native to Brazil."


def pool(*texts: str) -> list[Statement]:
    return [s for n, text in enumerate(texts) for s in passage_statements(f"chk{n}", text)]


def answer(question: str, *texts: str, said: str = "") -> dict[str, Any]:
    chunk_texts = {f"chk{n}": text for n, text in enumerate(texts)}
    return choose_answer(question, {"sentences": [], "source": "floor"}, [], [], [], chunk_texts, said)


def test_dates_decide_who_was_born_earlier_or_is_younger() -> None:
    assert answer("Who was born earlier, Simone Bolelli or Caroline Wozniacki?", WOZNIACKI, BOLELLI)["text"] \
        == "Simone Bolelli"
    found = answer("Which tennis player is younger, Simone Bolelli or Caroline Wozniacki?", BOLELLI, WOZNIACKI)
    assert found["text"] == "Caroline Wozniacki"
    # the chain printed under the answer is both sides' deciding statements
    assert {s["text"] for s in found["sentences"]} == {BOLELLI.split(" He")[0], WOZNIACKI}


def test_lifespans_heights_and_counts_are_compared_not_read_off_one_sentence() -> None:
    assert answer("Who lived to an older age, Elia Kazan or Moustapha Akkad?", AKKAD, KAZAN)["text"] == "Elia Kazan"
    assert answer("Which mountain is taller, Gasherbrum II or Langtang Ri?", LANGTANG, GASHERBRUM)["text"] \
        == "Gasherbrum II"
    assert answer("Which genus contains more species, Crowea or Dracula?", CROWEA, DRACULA)["text"] == "Dracula"
    assert answer("Which genus contains fewer species, Crowea or Dracula?", CROWEA, DRACULA)["text"] == "Crowea"


def test_a_measured_comparison_beats_the_models_other_option_but_terms_do_not() -> None:
    # dates on both sides: measured, so it wins over a model that picked the other option
    q = "Who was born earlier, Simone Bolelli or Caroline Wozniacki?"
    assert compare(q, pool(BOLELLI, WOZNIACKI)) is not None
    assert answer(q, BOLELLI, WOZNIACKI, said="Caroline Wozniacki")["text"] == "Simone Bolelli"
    # a property read from terms ("from Japan") yields to the model's held answer, and decides without one
    q = "Which 2009 animated film is from Japan, Summer Wars or The Secret of Kells?"
    found = compare(q, pool(KELLS, SUMMER))
    assert found is not None and found[0].candidate.text == "Summer Wars" and found[1] is False
    assert answer(q, KELLS, SUMMER)["text"] == "Summer Wars"
    assert answer(q, KELLS, SUMMER, said="The Secret of Kells")["text"] == "The Secret of Kells"


def test_no_comparison_without_a_value_on_each_side() -> None:
    # only one side was read: nothing to compare, and no guess
    assert compare("Who was born earlier, Simone Bolelli or Caroline Wozniacki?", pool(BOLELLI)) is None
    # the same date on both sides decides nothing
    twin = "Caroline Wozniacki (born 8 October 1985) is a Danish former professional tennis player."
    assert compare("Who was born earlier, Simone Bolelli or Caroline Wozniacki?", pool(BOLELLI, twin)) is None


def test_each_side_owns_the_chunks_that_name_it_first() -> None:
    mixed = "Caroline Wozniacki beat Simone Bolelli's compatriot in 2010."
    found = sides(["Simone Bolelli", "Caroline Wozniacki"], pool(BOLELLI, WOZNIACKI, mixed))
    assert [len(side.statements) for side in found] == [1, 2]  # "He plays doubles." is too short to be one
    assert found[1].statements[-1].text == mixed


def test_both_questions_say_yes_only_when_each_side_states_it_and_no_when_one_side_never_does() -> None:
    no = both("Are Sutera and Rhodotypos both types of shrub?", pool(SUTERA, RHODOTYPOS))
    assert no is not None and no.candidate.text == "no"
    assert SUTERA in [s.text for s in no.statements]
    yes = both("Are Pothos and Tibouchina both flowering genus of plants?", pool(POTHOS, TIBOUCHINA))
    assert yes is not None and yes.candidate.text == "yes"
    # a side that was never read: no answer
    assert both("Are Sutera and Rhodotypos both types of shrub?", pool(RHODOTYPOS)) is None
    assert answer("Are Sutera and Rhodotypos both types of shrub?", SUTERA, RHODOTYPOS)["text"] == "no"


def test_the_evidence_of_each_side_outweighs_a_models_yes() -> None:
    question = "Are Sutera and Rhodotypos both types of shrub?"
    texts = {"chk0": SUTERA, "chk1": RHODOTYPOS}
    own = {"source": "model", "sentences": [
        {"text": "Rhodotypos is a genus of shrub.", "chunk_ids": ["chk1"], "status": "supported"},
        {"text": "Sutera is a comune in Sicily.", "chunk_ids": ["chk0"], "status": "supported"}]}
    chosen = choose_answer(question, own, [], [], [], texts, "yes")
    assert chosen["text"] == "no" and chosen["source"] == "floor"
    # one side never read: the evidence cannot say, and the model's own yes/no stands where its sentences hold it
    assert both(question, pool(RHODOTYPOS)) is None


def test_options_without_a_comma_drop_the_questions_own_words() -> None:
    assert options("Who was born first Iain Pears or Richard Llewellyn ?") == ["Iain Pears", "Richard Llewellyn"]
    assert options("Which will be higher Time Warner Center or One Manhattan Square ?") == \
        ["Time Warner Center", "One Manhattan Square"]
