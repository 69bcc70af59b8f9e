"""The orders CSV export, safe to open in a spreadsheet.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula to Excel,
LibreOffice and Google Sheets (a product named `=HYPERLINK(...)` would run when the buyer opens
the file). As OWASP's CSV injection guidance says, such a cell gets a leading `'` (shown as text,
not evaluated), and every cell is quoted. `bom=True` starts the file with a UTF-8 byte order mark,
which Excel needs to read non-ASCII names as UTF-8.
"""

import csv
from collections.abc import Iterable, Iterator
from typing import Any

from desideliver.orders.models import Order

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
BYTE_ORDER_MARK = "\ufeff"
CSV_HEADER = ["order_id", "created_at", "status", "product", "quantity", "unit_price", "subtotal", "order_total"]


class _Echo:
    def write(self, value: str) -> str:
        return value


def spreadsheet_cell(value: Any) -> str:
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text


def orders_csv_rows(orders: Iterable[Order], *, bom: bool = False) -> Iterator[str]:
    """CSV lines, one per order line, streamed."""
    writer = csv.writer(_Echo(), quoting=csv.QUOTE_ALL)
    yield (BYTE_ORDER_MARK if bom else "") + writer.writerow(CSV_HEADER)
    for order in orders:
        for item in order.items.all():
            cells = [
                order.pk,
                order.created_at.isoformat(),
                order.status,
                item.product_name,
                item.quantity,
                item.unit_price,
                item.subtotal,
                order.total,
            ]
            yield writer.writerow([spreadsheet_cell(cell) for cell in cells])
