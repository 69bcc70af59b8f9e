"""What a browser would post back from an admin page: every field of one form, as loaded."""

from __future__ import annotations

from html.parser import HTMLParser


class _FormFields(HTMLParser):
    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id, self.inside, self.fields = form_id, False, {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.inside = attributes.get("id") == self.form_id
        if tag == "option" and self.inside and self._select and "selected" in attributes:
            self.fields[self._select] = attributes.get("value", "")
        if not self.inside or "name" not in attributes:
            return
        name = attributes["name"]
        if tag == "input" and attributes.get("type") not in ("submit", "button", "file"):
            if attributes.get("type") != "checkbox":
                self.fields[name] = attributes.get("value", "")
            elif "checked" in attributes:
                self.fields[name] = attributes.get("value", "on")
        elif tag == "select":
            self._select = name
            self.fields.setdefault(name, "")
        elif tag == "textarea":
            self._textarea = name
            self.fields[name] = ""

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.fields[self._textarea] += data.lstrip("\n") if not self.fields[self._textarea] else data


def form_fields(html: str, form_id: str) -> dict[str, str]:
    parser = _FormFields(form_id)
    parser.feed(html)
    return parser.fields
