"""China's public holidays and make-up working days (调休), kept as data per year.

Source: the State Council General Office's annual notice on holiday arrangements
(国务院办公厅关于XXXX年部分节假日安排的通知). ``status``:

- ``published``: the notice is out; holidays and make-up days are exactly as published.
- ``provisional``: the notice is not out yet; only the statutory days (全国年节及纪念日放假
  办法, 2025 revision) are listed, without bridging days or make-up weekends. Replace the
  entry with the published one when the notice appears (usually in November).

Dates are ``YYYY-MM-DD`` strings; ranges are inclusive. Years missing here fall back to
Monday–Friday (see ``calendar.WorkingCalendar.year_status``).
"""

from __future__ import annotations

from typing import Any

HOLIDAY_DATA: dict[int, dict[str, Any]] = {
    2025: {
        "status": "published",
        "source": "国办发明电〔2024〕12号",
        "holidays": [
            {"name": "元旦", "from": "2025-01-01", "to": "2025-01-01"},
            {"name": "春节", "from": "2025-01-28", "to": "2025-02-04"},
            {"name": "清明节", "from": "2025-04-04", "to": "2025-04-06"},
            {"name": "劳动节", "from": "2025-05-01", "to": "2025-05-05"},
            {"name": "端午节", "from": "2025-05-31", "to": "2025-06-02"},
            {"name": "国庆节、中秋节", "from": "2025-10-01", "to": "2025-10-08"},
        ],
        "makeup_workdays": [
            "2025-01-26",
            "2025-02-08",
            "2025-04-27",
            "2025-09-28",
            "2025-10-11",
        ],
    },
    2026: {
        "status": "published",
        "source": "国办发明电〔2025〕7号",
        "holidays": [
            {"name": "元旦", "from": "2026-01-01", "to": "2026-01-03"},
            {"name": "春节", "from": "2026-02-15", "to": "2026-02-23"},
            {"name": "清明节", "from": "2026-04-04", "to": "2026-04-06"},
            {"name": "劳动节", "from": "2026-05-01", "to": "2026-05-05"},
            {"name": "端午节", "from": "2026-06-19", "to": "2026-06-21"},
            {"name": "中秋节", "from": "2026-09-25", "to": "2026-09-27"},
            {"name": "国庆节", "from": "2026-10-01", "to": "2026-10-07"},
        ],
        "makeup_workdays": [
            "2026-01-04",
            "2026-02-14",
            "2026-02-28",
            "2026-05-09",
            "2026-09-20",
            "2026-10-10",
        ],
    },
    2027: {
        "status": "provisional",
        "source": "statutory fixed-date days only; State Council notice not yet published",
        "holidays": [
            {"name": "元旦", "from": "2027-01-01", "to": "2027-01-01"},
            {"name": "劳动节", "from": "2027-05-01", "to": "2027-05-02"},
            {"name": "国庆节", "from": "2027-10-01", "to": "2027-10-03"},
        ],
        "makeup_workdays": [],
    },
}
