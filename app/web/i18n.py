"""Every word the page shows, in Vietnamese (first) and English.

Templates call `t(key, **values)`. Codebook words (echelons, kinds of
designation, verification, fit of a date) are looked up as "<group>.<value>",
so a value the table does not know is shown as itself rather than failing.
"""

from __future__ import annotations

from typing import Final

LANGS: Final = ("vi", "en")
DEFAULT_LANG: Final = "vi"
COOKIE: Final = "phienhieu_lang"

MESSAGES: Final[dict[str, tuple[str, str]]] = {
    # --- frame -------------------------------------------------------------------------
    "site.title": ("Giải mã phiên hiệu đơn vị", "Unit designation decoder"),
    "site.tagline": (
        "Tra ký hiệu, phiên hiệu, mật danh và hòm thư đơn vị ghi trong hồ sơ liệt sĩ, "
        "theo ngày hy sinh.",
        "Look up the unit symbols, numbers, cover names and field mailboxes written in "
        "martyr records, for the date of death.",
    ),
    "skip": ("Đến nội dung chính", "Skip to main content"),
    "nav.label": ("Các trang", "Pages"),
    "nav.decode": ("Giải mã", "Decode"),
    "nav.search": ("Tìm đơn vị", "Find a unit"),
    "nav.batch": ("Giải mã danh sách", "Decode a list"),
    "lang.label": ("Ngôn ngữ", "Language"),
    "lang.vi": ("Tiếng Việt", "Tiếng Việt"),
    "lang.en": ("English", "English"),
    "footer.caution": (
        "Câu trả lời là đầu mối để đối chiếu, không thay thế hồ sơ gốc. Mỗi dòng của bộ mã "
        "có nguồn dẫn và trạng thái kiểm chứng.",
        "An answer is a lead to cross-check, not a substitute for the original records. "
        "Every row of the codebook cites its source and its verification status.",
    ),
    "footer.api": ("Dành cho phần mềm: tài liệu API", "For software: API documentation"),
    # --- decode form -------------------------------------------------------------------
    "decode.title": ("Giải mã phiên hiệu", "Decode a designation"),
    "decode.intro": (
        "Nhập phiên hiệu như ghi trên giấy báo tử hoặc hồ sơ liệt sĩ; có dấu hay không dấu "
        "đều được.",
        "Type the designation as the death notice or martyr record writes it, with or "
        "without diacritics.",
    ),
    "form.text": (
        "Phiên hiệu, ký hiệu, mật danh hoặc hòm thư",
        "Designation, symbol, cover name or mailbox",
    ),
    "form.text_hint": (
        "Ví dụ: C11.D3.E1.F2.QK5 — Công trường 9 — Hòm thư 91364 CS",
        "For example: C11.D3.E1.F2.QK5 — Công trường 9 — Hòm thư 91364 CS",
    ),
    "form.date": ("Ngày hy sinh (nếu biết)", "Date of death (if known)"),
    "form.date_hint": (
        "Viết như hồ sơ ghi: 27/1/1968, T1/1968, 1968, 1968-1970",
        "As records write it: 27/1/1968, T1/1968, 1968, 1968-1970",
    ),
    "form.edition": ("Ấn bản bộ mã", "Codebook edition"),
    "form.submit": ("Giải mã", "Decode"),
    "form.empty_text": ("Hãy nhập một phiên hiệu để giải mã.", "Type a designation to decode."),
    "form.error": ("Chưa giải mã được", "Could not decode"),
    "decode.examples": ("Thử một ví dụ", "Try an example"),
    "edition_status.published": ("đã công bố", "published"),
    "edition_status.draft": ("bản nháp", "draft"),
    "edition_status.retired": ("đã thay thế", "retired"),
    # --- the answer ----------------------------------------------------------------------
    "result.title": ("Kết quả", "Answer"),
    "result.input": ("Văn bản đã đọc", "The text as read"),
    "result.legend": ("Chú thích", "Key"),
    "result.legend_ok": ("phần đã giải mã", "decoded"),
    "result.legend_unknown": ("phần chưa giải mã", "not decoded"),
    "result.legend_warn": ("phần cần lưu ý", "needs attention"),
    "result.date": ("Ngày hy sinh", "Date of death"),
    "result.date_read": ("hiểu là", "read as"),
    "result.no_date": (
        "không ghi — chuỗi đơn vị không được đối chiếu theo thời gian",
        "not given — the chain is not checked against time",
    ),
    "status.resolved": ("Đã giải mã", "Decoded"),
    "status.partial": ("Giải mã được một phần", "Partly decoded"),
    "status.ambiguous": ("Có nhiều khả năng", "Several possible units"),
    "status.unresolved": ("Không tìm thấy trong bộ mã", "Not found in the codebook"),
    "status.invalid": ("Không có phiên hiệu để tra", "Nothing to look up"),
    "status_help.resolved": (
        "Mọi phần của phiên hiệu khớp với một chuỗi đơn vị trong bộ mã, đúng thời gian.",
        "Every part of the designation fits one chain of units in the codebook, at that date.",
    ),
    "status_help.partial": (
        "Một phần khớp với bộ mã; phần còn lại chưa có trong bộ mã hoặc không khớp thời gian "
        "— xem lưu ý bên dưới.",
        "Part of the designation fits the codebook; the rest is not in it or does not fit the "
        "date — see the notes below.",
    ),
    "status_help.ambiguous": (
        "Phiên hiệu có thể chỉ những đơn vị khác nhau, xếp theo điểm. Cần đối chiếu thêm hồ sơ.",
        "The designation may mean different units, ranked by score. Cross-check other records.",
    ),
    "status_help.unresolved": (
        "Ấn bản bộ mã này chưa có đơn vị nào khớp. Điều đó không có nghĩa là phiên hiệu sai.",
        "This codebook edition has no unit that matches. That does not mean the designation "
        "is wrong.",
    ),
    "status_help.invalid": (
        "Không nhận ra ký hiệu, tên đơn vị, mật danh hay hòm thư nào trong văn bản.",
        "No echelon symbol, unit name, cover name or mailbox was recognised in the text.",
    ),
    "result.hint": (
        "Gợi ý: viết đầy đủ hơn (Sư đoàn 9 thay vì F9), bỏ phần không chắc chắn, hoặc tìm "
        "theo tên ở trang Tìm đơn vị.",
        "Hint: write it out (Sư đoàn 9 rather than F9), drop the uncertain part, or look the "
        "name up on the Find a unit page.",
    ),
    "summary.or": ("hoặc", "or"),
    "chain.title": ("Chuỗi đơn vị, từ nhỏ đến lớn", "Chain of units, smallest to largest"),
    "chain.best": ("Khả năng có điểm cao nhất", "The highest-scoring possibility"),
    "chain.under": ("trực thuộc", "under"),
    "chain.existed": ("Tồn tại", "Existed"),
    "chain.matched": ("Khớp", "Matched"),
    "chain.link": ("Quan hệ trực thuộc", "Under the next unit"),
    "chain.areas": ("Địa bàn hoạt động", "Area of operations"),
    "chain.source": ("Nguồn", "Source"),
    "chain.note": ("Ghi chú của bộ mã", "Codebook note"),
    "chain.suffix_ignored": ("đã bỏ chữ cái sau số", "letter suffix ignored"),
    "score": ("Điểm", "Score"),
    "reasons.title": ("Vì sao", "Why"),
    "warnings.title": ("Lưu ý", "Warnings"),
    "unresolved.title": ("Phần chưa giải mã", "Parts not decoded"),
    "others.title": ("Các khả năng khác", "Other possibilities"),
    "others.show": ("Xem chuỗi đơn vị", "Show the chain"),
    "edition.answered": ("Ấn bản bộ mã đã trả lời", "Codebook edition that answered"),
    "edition.seq": ("số", "no."),
    "edition.checksum": ("mã kiểm tra", "checksum"),
    "permalink": ("Liên kết cố định tới câu trả lời này", "Permanent link to this answer"),
    "permalink.copy": ("Sao chép liên kết", "Copy the link"),
    "permalink.copied": ("Đã sao chép", "Copied"),
    "date.range": ("từ {start} đến {end}", "from {start} to {end}"),
    "date.approximate": ("khoảng", "about"),
    "period.from": ("từ {start}", "from {start}"),
    "period.until": ("đến trước {end}", "until {end}"),
    "period.unknown": ("không rõ thời gian", "period not known"),
    "fit.inside": ("đúng thời gian", "fits the date"),
    "fit.boundary": ("sát ranh giới thời gian", "near a bound of the period"),
    "fit.outside": ("ngoài thời gian", "outside the period"),
    "fit.unknown_period": ("bộ mã chưa rõ thời gian", "period not in the codebook"),
    "verification.verified": ("Đã kiểm chứng", "Verified"),
    "verification.unverified": ("Chưa kiểm chứng", "Not yet verified"),
    "verification.disputed": ("Còn tranh cãi", "Disputed"),
    "reliability.strong": ("nguồn mạnh", "strong source"),
    "reliability.moderate": ("nguồn trung bình", "moderate source"),
    "reliability.weak": ("nguồn yếu", "weak source"),
    "source_kind.army_record": ("hồ sơ quân đội", "army record"),
    "source_kind.veteran_testimony": ("lời kể cựu chiến binh", "veteran's testimony"),
    "source_kind.publication": ("ấn phẩm", "publication"),
    "kind.designation": ("phiên hiệu", "designation"),
    "kind.cover_name": ("mật danh", "cover name"),
    "kind.cover_code": ("mã bí danh", "cover code"),
    "kind.honorific": ("tên truyền thống", "honorific name"),
    "kind.nickname": ("biệt danh", "nickname"),
    "kind.mailbox": ("hòm thư", "field mailbox"),
    "kind.theater_code": ("mã chiến trường", "theatre code"),
    "echelon.squad": ("Tiểu đội", "squad"),
    "echelon.platoon": ("Trung đội", "platoon"),
    "echelon.company": ("Đại đội", "company"),
    "echelon.battalion": ("Tiểu đoàn", "battalion"),
    "echelon.regiment": ("Trung đoàn", "regiment"),
    "echelon.division": ("Sư đoàn", "division"),
    "echelon.brigade": ("Lữ đoàn", "brigade"),
    "echelon.corps": ("Quân đoàn", "corps"),
    "echelon.military_region": ("Quân khu", "military region"),
    "echelon.front": ("Mặt trận", "front"),
    "echelon.group": ("Đoàn", "group"),
    "echelon.station": ("Binh trạm", "station"),
    "echelon.worksite": ("Công trường", "worksite"),
    "echelon.department": ("Cục, Phòng", "department"),
    "echelon.theater": ("Chiến trường", "theatre"),
    "unresolved_reason.not_in_codebook": ("chưa có trong bộ mã", "not in the codebook"),
    "unresolved_reason.contradicts_chain": (
        "không nằm trong chuỗi trực thuộc",
        "not on the chain of command",
    ),
    "unresolved_reason.anachronistic": (
        "đơn vị không tồn tại vào ngày đó",
        "the unit did not exist at that date",
    ),
    "unresolved_reason.smaller_than_anchor": (
        "đơn vị nhỏ hơn, bộ mã chưa có",
        "a smaller unit the codebook does not have",
    ),
    "warning.anachronistic_parent": ("Đơn vị cấp trên lệch thời gian", "Anachronistic parent"),
    "warning.code_out_of_period": ("Mã dùng ngoài thời gian", "Code used outside its period"),
    "warning.code_period_boundary": ("Sát ranh giới thời gian", "Near a bound of the period"),
    "warning.kbc_lookalike": ("Không phải phiên hiệu QĐND", "Not a People's Army designation"),
    "warning.not_understood": ("Có phần không hiểu", "Text not understood"),
    "warning.legacy_encoding": ("Đã chuyển từ mã cũ (TCVN3/VNI)", "Converted from TCVN3/VNI"),
    "warning.date_in_designation": ("Có ngày tháng trong phiên hiệu", "A date inside the text"),
    "warning.not_in_codebook": ("Chưa có trong bộ mã", "Not in the codebook"),
    "warning.contradicts_chain": ("Không khớp chuỗi trực thuộc", "Off the chain of command"),
    "warning.nothing_usable": ("Không có gì để tra", "Nothing to look up"),
    "warning.suffix_ignored": ("Đã bỏ chữ cái sau số", "Letter suffix ignored"),
    "warning.other": ("Lưu ý", "Note"),
    # --- unit history ----------------------------------------------------------------------
    "unit.timeline": ("Dòng thời gian", "Timeline"),
    "unit.names": ("Tên gọi, mật danh, mã và hòm thư", "Names, cover names, codes and mailboxes"),
    "unit.parents": ("Trực thuộc", "Under"),
    "unit.subordinates": ("Đơn vị trực thuộc", "Units under it"),
    "unit.areas": ("Địa bàn hoạt động", "Areas of operation"),
    "unit.none": ("Bộ mã chưa có.", "None in the codebook."),
    "unit.undated": ("Không rõ thời gian", "Period not known"),
    "unit.decode_code": ("Giải mã “{code}”", "Decode “{code}”"),
    "unit.edition": ("Theo ấn bản bộ mã", "According to codebook edition"),
    "event.existed": ("Đơn vị tồn tại", "The unit exists"),
    "event.parent": ("Trực thuộc", "Under"),
    "event.child": ("Có đơn vị trực thuộc", "Has under it"),
    "event.area": ("Hoạt động tại", "Operated in"),
    "col.period": ("Thời gian", "Period"),
    "col.fact": ("Nội dung", "Fact"),
    "col.source": ("Nguồn", "Source"),
    "col.verification": ("Kiểm chứng", "Verification"),
    # --- search ----------------------------------------------------------------------------
    "search.title": ("Tìm đơn vị", "Find a unit"),
    "search.intro": (
        "Tìm theo tên, phiên hiệu, mật danh hoặc mã, không cần gõ dấu: “dong bang” tìm được "
        "Đại đoàn Đồng Bằng.",
        "Search by name, number, cover name or code, no diacritics needed: “dong bang” finds "
        "Đại đoàn Đồng Bằng.",
    ),
    "search.q": ("Tên, phiên hiệu, mật danh hoặc mã", "Name, number, cover name or code"),
    "search.echelon": ("Cấp đơn vị", "Echelon"),
    "search.any_echelon": ("Mọi cấp", "Any echelon"),
    "search.period": ("Thời gian (nếu cần)", "Period (optional)"),
    "search.period_hint": ("Ví dụ: 1968, 3/1972, 27/1/1968", "For example: 1968, 3/1972"),
    "search.submit": ("Tìm", "Search"),
    "search.empty": ("Hãy nhập từ cần tìm.", "Type something to search for."),
    "search.too_long": (
        "Từ cần tìm quá dài (tối đa {n} ký tự).",
        "The search text is too long (at most {n} characters).",
    ),
    "search.no_letters": (
        "Hãy nhập ít nhất một chữ hoặc số.",
        "Type at least one letter or digit.",
    ),
    "search.fuzzy": ("Tìm cả tên gần giống", "Also find similar names"),
    "search.fuzzy_hint": (
        "Khi không có tên nào khớp, tên gần giống luôn được tìm.",
        "When no name matches, similar names are always looked for.",
    ),
    "search.count": ("Tìm thấy {n} đơn vị.", "{n} units found."),
    "search.count_more": (
        "Tìm thấy hơn {n} đơn vị; đây là {n} đơn vị đầu.",
        "More than {n} units found; these are the first {n}.",
    ),
    "search.count_later": ("Trang tiếp theo: {n} đơn vị.", "A further page: {n} units."),
    "search.none": (
        "Không tìm thấy đơn vị nào. Thử bớt từ hoặc bỏ bộ lọc.",
        "No unit found. Try fewer words or remove a filter.",
    ),
    "search.bad_echelon": ("Không có cấp đơn vị “{value}”.", "There is no echelon “{value}”."),
    "search.bad_page": (
        "Không mở được trang kết quả này (địa chỉ đã cũ hoặc bị sửa); hãy tìm lại từ đầu.",
        "This page of results cannot be opened (the address is old or was altered); "
        "search again from the start.",
    ),
    "search.unit_name": ("tên đơn vị", "unit name"),
    "search.match.exact": ("trùng khớp", "exact match"),
    "search.match.prefix": ("có từ bắt đầu bằng từ cần tìm", "a word starts with it"),
    "search.match.contains": ("có chứa từ cần tìm", "contains it"),
    "search.match.fuzzy": ("chỉ gần giống", "only similar"),
    "search.approximate": ("Gần đúng", "Approximate"),
    "search.approximate_note": (
        "Kết quả ghi “Gần đúng” không khớp với từ cần tìm, chỉ có tên hoặc mã gần giống: "
        "hãy kiểm tra lại trước khi dùng.",
        "Results marked “Approximate” do not match the search text; only a name or code "
        "resembles it: check them before relying on them.",
    ),
    "search.similarity": ("độ giống {score}", "similarity {score}"),
    "search.pages": ("Các trang kết quả", "Pages of results"),
    "search.next_page": ("Trang sau", "Next page"),
    "search.first_page": ("Về trang đầu", "Back to the first page"),
    # --- batch -----------------------------------------------------------------------------
    "batch.title": ("Giải mã danh sách", "Decode a list"),
    "batch.intro": (
        "Tải lên một tệp CSV hoặc Excel (XLSX) nhỏ, mỗi dòng một phiên hiệu (kèm ngày hy sinh "
        "nếu có), rồi tải về tệp đã giải mã.",
        "Upload a small CSV or Excel (XLSX) file, one designation per row (with the date of "
        "death if known), and download it decoded.",
    ),
    "batch.file": ("Tệp danh sách (CSV hoặc XLSX)", "List file (CSV or XLSX)"),
    "batch.submit": ("Giải mã và tải về", "Decode and download"),
    "batch.no_file": ("Hãy chọn một tệp.", "Choose a file."),
    "batch.file_hint": (
        "Dòng đầu là tên cột. Tối đa {n} MB; danh sách lớn hơn hãy dùng lệnh phienhieu batch.",
        "The first row names the columns. At most {n} MB; use the phienhieu batch command for "
        "larger lists.",
    ),
    "batch.too_large": (
        "Tệp lớn hơn {n} MB; danh sách lớn hơn hãy giải mã bằng lệnh phienhieu batch.",
        "The file is larger than {n} MB; decode larger lists with the phienhieu batch command.",
    ),
    "batch.options": ("Chọn cột (nếu cần)", "Choose the columns (if needed)"),
    "batch.options_hint": (
        "Thường không cần: cột được nhận ra theo tên quen dùng như “Đơn vị”, “Đơn vị khi hy "
        "sinh”, “Ngày hy sinh”. Ghi tên cột hoặc số thứ tự cột (1, 2, …).",
        "Usually not needed: columns are found by their usual Vietnamese names such as "
        "“Đơn vị”, “Ngày hy sinh”. Give a column's header or its number (1, 2, …).",
    ),
    "batch.column": ("Cột phiên hiệu đơn vị", "Designation column"),
    "batch.date_column": ("Cột ngày hy sinh", "Date-of-death column"),
    "batch.what": ("Tệp trả về", "What you get back"),
    "batch.what_text": (
        "Cùng tệp đó, thêm các cột “Giải mã: …”: trạng thái, đơn vị, chuỗi trực thuộc, điểm, "
        "khả năng khác, cảnh báo và ấn bản bộ mã đã trả lời.",
        "The same file with “Giải mã: …” columns added: status, unit, chain of command, score, "
        "other candidates, warnings and the codebook edition that answered.",
    ),
    # --- errors ----------------------------------------------------------------------------
    "error.title": ("Có lỗi", "Something went wrong"),
    "error.title.404": ("Không tìm thấy", "Not found"),
    "error.back": ("Về trang giải mã", "Back to the decode page"),
    "error.page_not_found": (
        "Không có trang nào ở địa chỉ này.",
        "There is no page at this address.",
    ),
    "error.method": (
        "Trang này không dùng được theo cách đó.",
        "This page cannot be used that way.",
    ),
    "error.bad_params": (
        "Địa chỉ trang có tham số không hợp lệ.",
        "The address has a parameter the page does not understand.",
    ),
    "error.internal": (
        "Có lỗi phía máy chủ; lỗi đã được ghi lại. Không có gì bị thay đổi.",
        "Something went wrong on our side; it has been logged. Nothing was changed.",
    ),
}


def pick_lang(value: str | None) -> str:
    """A supported language, or the default (Vietnamese)."""
    return value if value in LANGS else DEFAULT_LANG


def translate(lang: str, key: str, **values: object) -> str:
    """The text of `key` in `lang`; an unknown key shows its last part (a raw codebook value)."""
    pair = MESSAGES.get(key)
    if pair is None:
        return key.rsplit(".", 1)[-1]
    text = pair[0] if lang == "vi" else pair[1]
    return text.format(**values) if values else text


def has(key: str) -> bool:
    return key in MESSAGES
