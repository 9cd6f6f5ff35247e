"""Name normalisation: variant fold, kana width/legacy, fuzzy confusables."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.engine.names import (build_variant_fold, kana_key, kanji_agreement, normalise_kana,
                              normalise_kanji, variant_fold)


# Old form → standard form, checked by hand against the 常用漢字表's 旧字体 column and the MJ
# 文字情報一覧 (JIS X 0213 glyph unification for 髙/﨑).
@pytest.mark.parametrize("variant, standard", [
    ("髙橋", "高橋"), ("山﨑", "山崎"), ("渡邊", "渡辺"), ("渡邉", "渡辺"), ("濱田", "浜田"),
    ("澤田", "沢田"), ("德永", "徳永"), ("瀨戸", "瀬戸"), ("國分", "国分"), ("廣瀬", "広瀬"),
    ("櫻井", "桜井"), ("眞鍋", "真鍋"), ("齋藤", "斎藤"), ("齊藤", "斉藤"), ("宮嵜", "宮崎"),
    ("髙橋　太郎", "高橋太郎"), ("髙橋 太郎", "高橋太郎"),
    ("𠮷田", "吉田"), ("淸水", "清水"), ("惠子", "恵子"), ("邊見", "辺見"), ("鐵男", "鉄男"),
    # A variation selector (IVS) only picks a glyph: 葛󠄀城 (U+E0100) is 葛城.
    ("葛\U000E0100城", "葛城"), ("辻\U000E0101", "辻"),
    # The old forms ja-itaiji folded to the wrong modern character:
    ("莊司", "荘司"), ("總一", "総一"), ("卷子", "巻子"), ("凖一", "準一"),
])
def test_old_forms_fold_to_their_standard_form(variant, standard):
    assert normalise_kanji(variant) == normalise_kanji(standard) == standard


@pytest.mark.parametrize("old, wrong", [("莊", "庄"), ("總", "惣"), ("卷", "捲"), ("凖", "准")])
def test_known_false_folds_are_gone(old, wrong):
    assert normalise_kanji(old) != wrong
    assert variant_fold().get(old) != wrong


@pytest.mark.parametrize("a, b", [
    ("佐藤光暉", "佐藤光輝"), ("籐田", "藤田"), ("栞", "刊"), ("斎藤", "斉藤"), ("齋藤", "齊藤"),
    ("崎山", "埼山"), ("嶋田", "島田"), ("浜田", "頻田"), ("沢田", "途田"), ("峯岸", "峰岸"),
    ("龍也", "竜也"), ("瀧本", "滝本"),
])
def test_distinct_characters_are_not_equal(a, b):
    assert normalise_kanji(a) != normalise_kanji(b)


def test_confusables_agree_fuzzily_but_strangers_do_not():
    assert kanji_agreement(normalise_kanji("齋藤"), normalise_kanji("斉藤")) == "fuzzy"
    assert kanji_agreement(normalise_kanji("崎山"), normalise_kanji("埼山")) == "fuzzy"
    assert kanji_agreement(normalise_kanji("嶋田"), normalise_kanji("島田")) == "fuzzy"
    # Different characters sharing a reading are at most fuzzy: a human decides.
    assert kanji_agreement(normalise_kanji("佐藤光暉"), normalise_kanji("佐藤光輝")) in ("fuzzy", "different")
    assert kanji_agreement("佐藤", "加藤") == "different"
    assert kanji_agreement("浜田", "頻田") == "different"
    assert kanji_agreement("高橋", "高橋") == "exact"


def test_shipped_fold_is_the_one_the_installed_jntajis_builds():
    # resources/reference/mj_variant_fold.tsv is build_variant_fold()'s output; after a jntajis
    # upgrade that changes the map, run tools/mj_variant_fold.py
    assert variant_fold() == build_variant_fold()
    assert len(variant_fold()) > 9000


def test_fold_never_maps_a_level1_character():
    fold = variant_fold()
    for ch in "高崎埼辺浜頻沢途斎斉徳瀬国広桜島嶋真峰峯竜龍滝瀧寿":
        assert ch not in fold


def test_fold_is_idempotent_and_lands_on_jis_x0208():
    fold = variant_fold()
    assert not set(fold.values()) & set(fold)
    for target in set(fold.values()):
        target.encode("shift_jis")  # every standard form is a JIS X 0208 character


def test_kana_width_and_legacy_forms():
    assert normalise_kana("ﾀｶﾊｼ ｲﾁﾛｳ") == "タカハシイチロウ"
    assert normalise_kana("たかはし　いちろう") == "タカハシイチロウ"
    assert kana_key("ｷｮｳｺ") == kana_key("キヨウコ")
    assert kana_key("ヂ") == kana_key("ジ") and kana_key("ヲ") == kana_key("オ")
    assert kana_key("ユーコ") == kana_key("ユウコ")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="髙高﨑崎邊邉辺濱浜澤沢齋齊斎斉莊總卷凖暉輝橋田山 　太郎花子", max_size=12))
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
