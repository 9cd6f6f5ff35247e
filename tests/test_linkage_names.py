"""Name normalisation: variant fold, kana width/legacy, fuzzy confusables."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.engine.names import (kana_key, kanji_agreement, normalise_kana, normalise_kanji,
                              variant_fold)


@pytest.mark.parametrize("variant, standard", [
    ("髙橋", "高橋"), ("山﨑", "山崎"), ("渡邊", "渡辺"), ("渡邉", "渡辺"), ("濱田", "浜田"),
    ("澤田", "沢田"), ("德永", "徳永"), ("瀨戸", "瀬戸"), ("國分", "国分"), ("廣瀬", "広瀬"),
    ("櫻井", "桜井"), ("髙橋　太郎", "高橋太郎"), ("髙橋 太郎", "高橋太郎"),
])
def test_genuine_variants_fold_to_one_form(variant, standard):
    assert normalise_kanji(variant) == normalise_kanji(standard) == standard


@pytest.mark.parametrize("a, b", [
    ("齋藤", "斎藤"), ("齊藤", "斉藤"), ("斎藤", "斉藤"), ("崎山", "埼山"), ("浜田", "頻田"),
    ("沢田", "途田"),
])
def test_confusable_or_borrowed_characters_are_not_equal(a, b):
    assert normalise_kanji(a) != normalise_kanji(b)


def test_confusables_agree_fuzzily_but_strangers_do_not():
    assert kanji_agreement(normalise_kanji("齋藤"), normalise_kanji("斎藤")) == "fuzzy"
    assert kanji_agreement(normalise_kanji("崎山"), normalise_kanji("埼山")) == "fuzzy"
    assert kanji_agreement("佐藤", "加藤") == "different"
    assert kanji_agreement("高橋", "高橋") == "exact"


def test_fold_never_maps_a_level1_character():
    fold = variant_fold()
    for ch in "高崎埼辺浜頻沢途斎斉徳瀬国広桜島嶋":
        assert ch not in fold


def test_kana_width_and_legacy_forms():
    assert normalise_kana("ﾀｶﾊｼ ｲﾁﾛｳ") == "タカハシイチロウ"
    assert normalise_kana("たかはし　いちろう") == "タカハシイチロウ"
    assert kana_key("ｷｮｳｺ") == kana_key("キヨウコ")
    assert kana_key("ヂ") == kana_key("ジ") and kana_key("ヲ") == kana_key("オ")
    assert kana_key("ユーコ") == kana_key("ユウコ")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="髙高﨑崎邊辺濱浜澤沢齋斎橋田山 　太郎花子", max_size=12))
def test_normalisation_is_idempotent_and_space_free(text):
    once = normalise_kanji(text)
    assert normalise_kanji(once) == once
    assert " " not in once and "\u3000" not in once


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ｱｲｳｴｵｶｷｸｹｺｯｬｭｮｰﾞﾟ アイウエオガギャッー", max_size=12))
def test_half_and_full_width_kana_agree(text):
    full = unicodedata.normalize("NFKC", text)
    assert normalise_kana(text) == normalise_kana(full)
    assert kana_key(kana_key(text)) == kana_key(text)
