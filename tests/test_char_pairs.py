"""The document-wide character and pair codes agree with the per-paragraph sets they replace."""

from __future__ import annotations

import numpy as np
import pytest

from hefa.review.documents.char_pairs import KeyTable, distinct, encode, key_code
from hefa.review.documents.prescreen_model import features, load_model

TEXTS = ["镇政府对本镇企业给予奖励。", "", "处５００元罚款，处500元", "一", "外地企业不得参加投标投标", "a\0b"]


def test_found_lists_are_the_keys_each_paragraph_holds() -> None:
    keys = ["镇", "企业", "投标", "罚款", "0元", "元罚", "ab", "外", "无有"]
    table = KeyTable(keys)
    found = table.found_lists(encode(TEXTS))
    for text, indices in zip(TEXTS, found, strict=True):
        text = text.replace("\0", "")
        expected = {i for i, key in enumerate(keys) if key in text}
        assert set(indices) == expected, text
        assert len(indices) == len(set(indices))  # each key once per paragraph


def test_no_pair_crosses_a_paragraph_boundary() -> None:
    table = KeyTable(["。一", "元一"])
    assert table.found_lists(encode(["奖励。", "一"])) == [[], []]


def test_folded_digits_and_model_scores_match_the_per_paragraph_features() -> None:
    model = load_model()
    assert model is not None
    per_paragraph = model.scores_many([features(text) for text in TEXTS])
    assert np.allclose(model.scores_encoded(encode(TEXTS)), per_paragraph)
    assert model.scores_encoded(encode([])).shape == (0, len(model.categories))


def test_keys_are_one_or_two_characters_and_distinct_sorts() -> None:
    assert key_code("a") == ord("a") and key_code("ab") > 2**21
    with pytest.raises(ValueError, match="one or two characters"):
        key_code("abc")
    assert distinct(np.array([3, 1, 3, 2, 1])).tolist() == [1, 2, 3]
    assert distinct(np.array([], dtype=np.int64)).tolist() == []
    assert KeyTable([]).found_lists(encode(["x"])) == [[]]


def test_concepts_are_features_and_scored_alike_document_wide(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from hefa.review.documents.prescreen_model import parse_concepts, train

    assert {"C:LOCAL", "C:PRIORITY", "C:PROCURE"} <= features("本县企业优先承接工程")
    assert not any(gram.startswith("C:") for gram in features("天气晴朗"))
    items = [
        (frozenset({"competition"}), "本县企业优先承接工程"), (frozenset({"competition"}), "本地供应商优先采购"),
        (frozenset({"competition"}), "本镇企业享受奖励"), (frozenset(), "天气晴朗适宜出行"),
        (frozenset(), "本规定自印发之日起施行"), (frozenset(), "镇政府负责组织实施"),
    ]
    model = train(items, ["competition"], min_df=1)
    assert any(gram.startswith("C:") for gram in model.weights)
    texts = ["本地企业优先", "外地企业", "", "第３条 罚款500元"]
    assert np.allclose(model.scores_encoded(encode(texts)), model.scores_many([features(t) for t in texts]))
    assert not any(gram.startswith("C:") for gram in model.top_ngrams(features("本县企业优先"), "competition", 8))

    long_word = tmp_path / "long.tsv"
    long_word.write_text("LOCAL\t本地|本县区\n", encoding="utf-8")
    with pytest.raises(ValueError, match="one or two characters"):
        parse_concepts(long_word)
    twice = tmp_path / "twice.tsv"
    twice.write_text("A\t本地\nB\t外地|本地\n", encoding="utf-8")
    with pytest.raises(ValueError, match="another concept"):
        parse_concepts(twice)
