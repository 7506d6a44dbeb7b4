"""Word tables of the designation language, keyed by folded spelling (see normalize.fold).

The grammar (grammar/designation.lark) recognises these words; this module says
what they mean. tests/test_parse_golden.py checks that the two agree.
Keys are folded and written without spaces, because records write "tieudoan"
as often as "tiểu đoàn": look a matched word up with `lookup_key`.
"""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import Final

from app.parsing.ast import Echelon
from app.parsing.normalize import fold

_NON_LETTERS = re.compile(r"[^a-z]+")


def lookup_key(folded: str) -> str:
    """The table key of a matched word: folded letters only ("tieu  doan" -> "tieudoan")."""
    return _NON_LETTERS.sub("", folded)


# ký hiệu: the echelon letters adopted army-wide in 1949 (brief §3).
ECHELON_LETTERS: Final = MappingProxyType(
    {
        "a": Echelon.SQUAD,
        "b": Echelon.PLATOON,
        "c": Echelon.COMPANY,
        "d": Echelon.BATTALION,
        "e": Echelon.REGIMENT,
        "f": Echelon.DIVISION,
    }
)

# Spelled-out echelon words and their abbreviations (brief §3), as written in Vietnamese.
_ECHELON_WORDS_VI: Final = {
    "tiểu đội": Echelon.SQUAD,
    "trung đội": Echelon.PLATOON,
    "đại đội": Echelon.COMPANY,
    "ĐĐ": Echelon.COMPANY,
    "tiểu đoàn": Echelon.BATTALION,
    "TĐ": Echelon.BATTALION,
    "trung đoàn": Echelon.REGIMENT,
    "TrĐ": Echelon.REGIMENT,
    "sư đoàn": Echelon.DIVISION,
    "SĐ": Echelon.DIVISION,
    "sư": Echelon.DIVISION,  # colloquial, only before a number ("sư 473")
    "đại đoàn": Echelon.DIVISION,  # early name for a division
    "lữ đoàn": Echelon.BRIGADE,
    "quân đoàn": Echelon.CORPS,
    "QĐ": Echelon.CORPS,
    "binh đoàn": Echelon.CORPS,  # a named corps ("Binh đoàn Quyết Thắng")
    "quân khu": Echelon.MILITARY_REGION,
    "QK": Echelon.MILITARY_REGION,
    "mặt trận": Echelon.FRONT,
    "MT": Echelon.FRONT,
    "đoàn": Echelon.GROUP,
    "binh trạm": Echelon.STATION,
    "BT": Echelon.STATION,
    "công trường": Echelon.WORKSITE,
    "CT": Echelon.WORKSITE,
    "cục": Echelon.DEPARTMENT,
    "phòng": Echelon.DEPARTMENT,
}

ECHELON_WORDS: Final = MappingProxyType(
    {lookup_key(fold(word)): echelon for word, echelon in _ECHELON_WORDS_VI.items()}
)

# Arms of service written after (or inside) a unit: folded key -> stable English key.
_BRANCHES_VI: Final = {
    "chủ lực": "main_force",
    "thông tin": "signal",
    "súng cối": "mortar",
    "súng máy phòng không": "anti_aircraft_machine_gun",
    "súng máy": "machine_gun",
    "phòng không": "air_defense",
    "trinh sát": "reconnaissance",
    "bộ binh": "infantry",
    "BB": "infantry",
    "vận tải": "transport",
    "công binh": "engineer",
    "pháo binh": "artillery",
    "đặc công": "sapper",
}

BRANCHES: Final = MappingProxyType(
    {lookup_key(fold(word)): key for word, key in _BRANCHES_VI.items()}
)

# Bare letter codes seen on death notices (brief §3, §4): opaque, never echelon letters.
# No official table gives their meaning; they are stored, not interpreted.
COVER_CODES: Final = frozenset({"KB", "KBM", "KH", "KN", "KT", "NB"})

# Sub-theatre codes of the southern front and its neighbours (brief §4, §6).
THEATER_CODES: Final = frozenset({"B1", "B2", "B3", "B4", "B5", *(f"T{n}" for n in range(1, 8))})

# Theatre letters of 1961 (brief §4): A North, B South, C Laos, Đ (later K) Cambodia;
# folded, so "Đ" is "d" here.
THEATER_LETTERS: Final = frozenset({"a", "b", "c", "d", "k"})

# Words that separate units in a list: "Tiểu đoàn 7, 8", "Đại đội 1 và Đại đội 2".
LIST_SEPARATORS: Final = frozenset({",", "va", "&", "+"})
OPENING_BRACKETS: Final = frozenset({"(", "[", "{"})
CLOSING_BRACKETS: Final = frozenset({")", "]", "}"})

# Provinces and areas that follow a unit ("C2, D83 – Quảng Ngãi"): the provinces of
# today, the merged provinces of 1976-1991 and the wartime areas named in the brief.
# Recognition only: a place's name is taken from the input as written.
_PLACES_VI: Final = (
    # Battlefields named by region or by theatre letter (brief §3, §4): places, not units.
    "chiến trường miền Nam",
    "chiến trường miền Bắc",
    "chiến trường K",
    "chiến trường B",
    "chiến trường C",
    "chiến trường Lào",
    "chiến trường Campuchia",
    "miền Nam",
    "miền Bắc",
    "miền Trung",
    "Lào",
    "Campuchia",
    # Wartime and regional names.
    "Trị Thiên",
    "Trị Thiên-Huế",
    "Bình Trị Thiên",
    "Quảng Đà",
    "Tây Nguyên",
    "Nam Bộ",
    "Trung Bộ",
    "Bắc Bộ",
    "Sài Gòn",
    "Gia Định",
    "Sài Gòn-Gia Định",
    "Huế",
    # Provinces merged between 1976 and 1991.
    "Nghĩa Bình",
    "Phú Khánh",
    "Nghệ Tĩnh",
    "Hà Nam Ninh",
    "Hải Hưng",
    "Hà Sơn Bình",
    "Vĩnh Phú",
    "Bắc Thái",
    "Hoàng Liên Sơn",
    "Cửu Long",
    "Minh Hải",
    "Sông Bé",
    "Thuận Hải",
    "Gia Lai-Kon Tum",
    "Quảng Nam-Đà Nẵng",
    "Hà Bắc",
    "Cao Lạng",
    "Hà Tuyên",
    "Nam Hà",
    # Provinces and centrally governed cities.
    "An Giang",
    "Bà Rịa-Vũng Tàu",
    "Bắc Giang",
    "Bắc Kạn",
    "Bạc Liêu",
    "Bắc Ninh",
    "Bến Tre",
    "Bình Định",
    "Bình Dương",
    "Bình Phước",
    "Bình Thuận",
    "Cà Mau",
    "Cần Thơ",
    "Cao Bằng",
    "Đà Nẵng",
    "Đắk Lắk",
    "Đắk Nông",
    "Điện Biên",
    "Đồng Nai",
    "Đồng Tháp",
    "Gia Lai",
    "Hà Giang",
    "Hà Nam",
    "Hà Nội",
    "Hà Tây",
    "Hà Tĩnh",
    "Hải Dương",
    "Hải Phòng",
    "Hậu Giang",
    "Hòa Bình",
    "Hưng Yên",
    "Khánh Hòa",
    "Kiên Giang",
    "Kon Tum",
    "Lai Châu",
    "Lâm Đồng",
    "Lạng Sơn",
    "Lào Cai",
    "Long An",
    "Nam Định",
    "Nghệ An",
    "Ninh Bình",
    "Ninh Thuận",
    "Phú Thọ",
    "Phú Yên",
    "Quảng Bình",
    "Quảng Nam",
    "Quảng Ngãi",
    "Quảng Ninh",
    "Quảng Trị",
    "Sóc Trăng",
    "Sơn La",
    "Tây Ninh",
    "Thái Bình",
    "Thái Nguyên",
    "Thanh Hóa",
    "Thừa Thiên",
    "Thừa Thiên-Huế",
    "Tiền Giang",
    "Trà Vinh",
    "Tuyên Quang",
    "Vĩnh Long",
    "Vĩnh Phúc",
    "Yên Bái",
    "Hồ Chí Minh",
)

# Folded spellings, e.g. "tri thien-hue".
PLACES: Final = frozenset(fold(place) for place in _PLACES_VI)
PLACE_MAX_CHARS: Final = max(len(place) for place in PLACES)
