"""What `phienhieu batch` shows a person: a progress line while it runs, a summary at the end."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from app.batch.service import TableSummary

STATUS_VI = {
    "resolved": "đã giải mã",
    "partial": "giải mã một phần",
    "ambiguous": "nhiều khả năng",
    "unresolved": "không tìm thấy",
    "invalid": "không hợp lệ",
    "error": "lỗi dữ liệu",
}
BAR = 24


def _clock(seconds: float) -> str:
    seconds = max(int(seconds), 0)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class ProgressLine:
    """One line on stderr, redrawn at most four times a second: bar, rows, rows/s, ETA."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.started = time.perf_counter()
        self._drawn = 0.0

    def __call__(self, rows: int, share: float | None) -> None:
        now = time.perf_counter()
        if now - self._drawn < 0.25 and share != 1.0:
            return
        self._drawn = now
        elapsed = max(now - self.started, 1e-9)
        rate = rows / elapsed
        if share:
            filled = int(BAR * min(share, 1.0))
            bar = "#" * filled + "." * (BAR - filled)
            eta = _clock(elapsed * (1 - share) / share)
            head = f"[{bar}] {share:4.0%}"
        else:
            head, eta = "[" + "?" * BAR + "]", "?"
        self.stream.write(
            f"\r{head}  {rows:,} dòng/rows  {rate:,.0f} dòng/s  còn/ETA {eta}   ".replace(",", ".")
        )
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


def summary_text(summary: TableSummary) -> str:
    """Counts per status and the curators' to-do list, Vietnamese first."""
    rate = summary.rows / summary.seconds if summary.seconds else 0.0
    date = summary.date_column or "(không có / none)"
    lines = [
        f"{summary.rows:,} dòng / rows trong / in {summary.seconds:.1f} s "
        f"({rate:,.0f} dòng/s; {summary.workers} tiến trình / worker(s)); "
        f"ấn bản / edition {summary.edition}",
        f"Cột phiên hiệu / designation column: {summary.designation_column}; "
        f"cột ngày hy sinh / date column: {date}",
        "Theo trạng thái / by status:",
    ]
    for status, count in summary.statuses.most_common():
        share = count / summary.rows if summary.rows else 0.0
        label = f"{STATUS_VI.get(status, status)} / {status}"
        lines.append(f"  {label:<34} {count:>10,}  {share:6.1%}")
    top = summary.top_unresolved()
    if top:
        lines.append(
            "Phiên hiệu không tìm thấy nhiều nhất (việc cần làm cho bộ mã) / "
            "most frequent unresolved codes (the curators' to-do list):"
        )
        lines.extend(f"  {count:>8,}  {text}" for text, count in top)
    return "\n".join(lines)
