"""Exports of stored text with control characters (\\x0b, \\x1b): the Excel file is XML and
openpyxl refuses such characters; the export must still succeed."""

from __future__ import annotations

import base64
import io

from openpyxl import load_workbook

from services.command.service_layer.view import to_export


def test_xlsx_export_survives_stored_control_characters() -> None:
    out = to_export(
        "cases", ["id", "title"], [["c-1", "井盖\x0b缺失\x1b[31m"], ["c-2", "ok"]], "xlsx"
    )
    wb = load_workbook(io.BytesIO(base64.b64decode(out["content_b64"])))
    rows = list(wb.active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert rows == [("id", "title"), ("c-1", "井盖缺失[31m"), ("c-2", "ok")]


def test_csv_export_keeps_the_text() -> None:
    out = to_export("cases", ["id"], [["a\x0bb"]], "csv")
    assert "a\x0bb" in base64.b64decode(out["content_b64"]).decode("utf-8")
