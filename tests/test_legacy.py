"""Legacy encodings: TCVN3 (ABC) and VNI-Windows mojibake, decoded, encoded and detected."""

from __future__ import annotations

import shutil
import string
import subprocess
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.parsing.legacy import (
    VIETNAMESE_LETTERS,
    LegacyEncoding,
    detect_legacy,
    from_legacy,
    repair_legacy,
    to_legacy,
)

TCVN3 = LegacyEncoding.TCVN3
VNI = LegacyEncoding.VNI

# The designations quoted verbatim in the domain brief, §4.
BRIEF_EXAMPLES = (
    "C1 – D32, Mặt trận 559",
    "D409, Quân khu 5",
    "tiểu đoàn 7-KB",
    "C9, D6, E270",
    "Đại đội (C9, 10, 11), Tiểu đoàn 6 (D6), Trung đoàn 270 (E270), Quân khu 4",
    "C2, D107",
    "Đại đội 4 chủ lực, Tiểu đoàn 4C, Trung đoàn 4 Quân khu Trị Thiên-Huế",
    "F312 / QĐ2 / QK Trị Thiên / Mặt trận B5",
    "Đại đội 3, Tiểu đoàn 9, Trung đoàn 90 Sư đoàn 324",
    "đại đội 19, trung đoàn 33",
    "C7, D105, binh trạm 28, sư 473, Đoàn 559",
    "C11.D3.E1.F2.QK5",
    "đại đội 18 thông tin của Trung đoàn 141, đoàn H",
    "C2, D83 – Quảng Ngãi, QK5",
    "C16 súng cối - thuộc Ebb2, F9",
    "Trung đoàn BB 1 ( Q761 )",
    "Tiểu đoàn 7, 8, Trung đoàn 64, Sư đoàn 320A, Quân đoàn 3",
    "Tiểu đoàn 101, Trung đoàn 33, Sư đoàn 320",
    "Trung đoàn 174, Sư đoàn 316, Quân khu 2",
    "Tiểu đoàn 7, Đại đội 18 Súng máy phòng không, Đại đội 21 Trinh sát - Trung đoàn 273 - "
    "Sư đoàn 9",
    "Đại đội 1 và Đại đội 2 của Đoàn vận tải xe thồ 48, Phòng 9, Cục Hậu cần, Quân khu 8",
)

# Unicode Vietnamese that uses only Latin-1 letters, so the first filter cannot rule it out.
LATIN1_ONLY_UNICODE = (
    "Hoà Bình",
    "Tây Ninh",
    "Cà Mau",
    "Thái Bình",
    "Lào Cai",
    "Quân khu",
    "Nhà Bè",
    "Tân Uyên",
    "khoá",
    "Quý",
    "Ðoàn 559",  # "Ð" (U+00D0) typed for "Đ"
    "ÐOÀN 559",
)

TCVN3_CAPITALS = frozenset("ĂÂÊÔƠƯĐ")  # the only capitals VN3 encodes


def tcvn3_round_trip(text: str) -> str:
    """What survives TCVN3: capitals without a code of their own come back small."""
    return "".join(
        c.lower() if c.isupper() and not c.isascii() and c not in TCVN3_CAPITALS else c
        for c in text
    )


def test_alphabet_is_the_134_precomposed_letters() -> None:
    assert len(VIETNAMESE_LETTERS) == len(set(VIETNAMESE_LETTERS)) == 134
    assert {"đ", "Đ", "ă", "Ặ", "ỹ", "Ỵ", "ư", "Ữ"} <= set(VIETNAMESE_LETTERS)
    assert all(unicodedata.normalize("NFC", c) == c and len(c) == 1 for c in VIETNAMESE_LETTERS)


@pytest.mark.parametrize("letter", VIETNAMESE_LETTERS)
def test_vni_round_trips_every_letter(letter: str) -> None:
    legacy = to_legacy(letter, VNI)
    assert all(ord(c) <= 0xFF for c in legacy)
    assert from_legacy(legacy, VNI) == letter


@pytest.mark.parametrize("letter", VIETNAMESE_LETTERS)
def test_tcvn3_round_trips_every_letter(letter: str) -> None:
    legacy = to_legacy(letter, TCVN3)
    assert len(legacy) == 1
    assert 0xA1 <= ord(legacy) <= 0xFE
    assert from_legacy(legacy, TCVN3) == tcvn3_round_trip(letter)


def test_tcvn3_case_is_lost_only_for_capitals_without_a_code() -> None:
    lost = [c for c in VIETNAMESE_LETTERS if from_legacy(to_legacy(c, TCVN3), TCVN3) != c]
    assert len(lost) == 67 - 7
    assert all(c.isupper() and c not in TCVN3_CAPITALS for c in lost)


@pytest.mark.parametrize(
    ("unicode", "tcvn3", "vni"),
    [
        # The brief's own examples of mojibake.
        ("Đại đội", "§¹i ®éi", "Ñaïi ñoäi"),
        # TCVN 5712:1993 VN3 codes; VNI-Windows as in duydev/vietnamese-conversion.
        ("Ă", "\xa1", "AÊ"),
        ("ư", "\xad", "ö"),
        ("ặ", "\xc6", "aë"),
        ("ố", "\xe8", "oá"),
        ("ợ", "\xee", "ôï"),
        ("ự", "\xf9", "öï"),
        ("ỵ", "\xfe", "î"),
        ("ĩ", "\xdc", "ó"),
        ("ỉ", "\xd8", "æ"),
        ("ị", "\xde", "ò"),
        ("Ữ", "\xf7", "ÖÕ"),
        ("Ẵ", "\xbd", "AÜ"),
    ],
)
def test_codes_match_the_references(unicode: str, tcvn3: str, vni: str) -> None:
    assert to_legacy(unicode, TCVN3) == tcvn3
    assert to_legacy(unicode, VNI) == vni
    assert from_legacy(vni, VNI) == unicode
    assert from_legacy(tcvn3, TCVN3) == tcvn3_round_trip(unicode)


def _glibc_knows_tcvn() -> bool:
    if shutil.which("iconv") is None:
        return False
    probe = subprocess.run(
        ["iconv", "-f", "TCVN5712-1", "-t", "UTF-8"],
        input=b"\xa7",
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0 and probe.stdout.decode() == "Đ"


@pytest.mark.skipif(not _glibc_knows_tcvn(), reason="no iconv with TCVN5712-1 here")
def test_tcvn3_agrees_with_glibc_iconv() -> None:
    """An independent implementation of TCVN 5712:1993 decodes our bytes to the same letters."""
    letters = [c for c in VIETNAMESE_LETTERS if c in TCVN3_CAPITALS or c.islower()]
    legacy = "\n".join(to_legacy(c, TCVN3) for c in letters).encode("latin-1")
    result = subprocess.run(
        ["iconv", "-f", "TCVN5712-1", "-t", "UTF-8"], input=legacy, capture_output=True, check=True
    )
    assert result.stdout.decode().split("\n") == letters


@pytest.mark.parametrize("text", BRIEF_EXAMPLES)
def test_brief_examples_round_trip(text: str) -> None:
    assert from_legacy(to_legacy(text, VNI), VNI) == text
    assert from_legacy(to_legacy(text, TCVN3), TCVN3) == tcvn3_round_trip(text)


def test_sentence_round_trip_and_forms() -> None:
    text = "Đại đội 3, Tiểu đoàn 9, Trung đoàn 90 Sư đoàn 324"
    assert to_legacy(text, TCVN3) == "§¹i ®éi 3, TiÓu ®oµn 9, Trung ®oµn 90 S\xad ®oµn 324"
    assert to_legacy(text, VNI) == "Ñaïi ñoäi 3, Tieåu ñoaøn 9, Trung ñoaøn 90 Sö ñoaøn 324"
    for encoding in LegacyEncoding:
        assert from_legacy(to_legacy(text, encoding), encoding) == text


def test_capitals_in_tcvn3_lose_case_and_vni_keeps_it() -> None:
    text = "TIỂU ĐOÀN 9"
    assert from_legacy(to_legacy(text, TCVN3), TCVN3) == "TIểU ĐOàN 9"
    assert from_legacy(to_legacy(text, VNI), VNI) == text


def test_nfd_input_is_encoded_as_nfc() -> None:
    nfd = unicodedata.normalize("NFD", "Tiểu đoàn")
    assert to_legacy(nfd, VNI) == "Tieåu ñoaøn"
    assert to_legacy(nfd, TCVN3) == "TiÓu ®oµn"


def test_vni_accepts_a_mark_of_the_other_case() -> None:
    assert from_legacy("Aø", VNI) == "À"
    assert from_legacy("aØ", VNI) == "à"


def test_from_legacy_leaves_characters_beyond_latin1_alone() -> None:
    # Latin-1 letters are legacy codes ("ê" is "ờ" in TCVN3); letters beyond are not.
    assert from_legacy("Trị – Huế", TCVN3) == "Trị – Huế"
    assert from_legacy("Trị – Huế", VNI) == "Trị – Huế"


@pytest.mark.parametrize("text", BRIEF_EXAMPLES + LATIN1_ONLY_UNICODE)
def test_detect_never_fires_on_unicode(text: str) -> None:
    assert detect_legacy(text) is None
    assert detect_legacy(unicodedata.normalize("NFD", text)) is None
    assert repair_legacy(text) == (text, None)


@pytest.mark.parametrize("text", ["", "C9, D6, E270", "Dai doi 3, Tieu doan 9", "Hom Thu 140.52"])
def test_detect_never_fires_on_ascii(text: str) -> None:
    assert detect_legacy(text) is None


@given(st.text(alphabet=string.printable, max_size=80))
def test_detect_never_fires_on_any_ascii(text: str) -> None:
    assert detect_legacy(text) is None
    assert repair_legacy(text) == (text, None)


@pytest.mark.parametrize("encoding", list(LegacyEncoding))
@pytest.mark.parametrize("text", BRIEF_EXAMPLES)
def test_detect_finds_the_encoding_of_legacy_forms(text: str, encoding: LegacyEncoding) -> None:
    legacy = to_legacy(text, encoding)
    if legacy == text:  # ASCII only: nothing to detect or repair
        assert detect_legacy(legacy) is None
        return
    assert detect_legacy(legacy) is encoding
    repaired, found = repair_legacy(legacy)
    assert found is encoding
    expected = tcvn3_round_trip(text) if encoding is TCVN3 else text
    assert repaired == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("§¹i ®éi", TCVN3),
        ("Ñaïi ñoäi", VNI),
        ("Q§2", TCVN3),
        ("ñi", None),  # "đi" in VNI, "ủi" in TCVN3: a tie is left alone
        ("Küstrin", None),  # a foreign word whose decodings are not Vietnamese
    ],
)
def test_detect_short_strings(text: str, expected: LegacyEncoding | None) -> None:
    assert detect_legacy(text) is expected


_ALPHABET = st.sampled_from(
    VIETNAMESE_LETTERS + tuple(string.ascii_letters + string.digits + " ,.-/()")
)


@given(st.lists(_ALPHABET, max_size=60).map("".join))
def test_vni_round_trips_any_vietnamese_text(text: str) -> None:
    assert from_legacy(to_legacy(text, VNI), VNI) == text


@given(st.lists(_ALPHABET, max_size=60).map("".join))
def test_tcvn3_round_trips_any_vietnamese_text(text: str) -> None:
    assert from_legacy(to_legacy(text, TCVN3), TCVN3) == tcvn3_round_trip(text)
