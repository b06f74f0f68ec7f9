"""The contact panel's links: a mailto and a ticket URL prefilled with the page and the path taken.

The site's script rebuilds the same links in the browser when it knows more of the path;
keep the body layout here and in site_templates/assets/site.js alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from kbengine.model import Support


@dataclass
class ContactLinks:
    mailto: str
    ticket: str


def message_body(summary: str, path_label: str, path: list[str], page_url: str) -> str:
    """The text the desk receives: what the reader was doing, the steps taken, the page."""
    parts = [summary] if summary else []
    if path:
        parts.append(f"{path_label}:\n" + "\n".join(f"{n}. {step}" for n, step in enumerate(path, 1)))
    parts.append(page_url)
    return "\n\n".join(parts)


def contact_links(support: Support, subject: str, summary: str, path_label: str, path: list[str],
                  page_url: str) -> ContactLinks:
    """Prefilled links; empty strings when kb.yaml gives no e-mail address or ticket URL."""
    body = message_body(summary, path_label, path, page_url)
    mailto = ""
    if support.email:
        mailto = f"mailto:{support.email}?subject={quote(subject, safe='')}&body={quote(body, safe='')}"
    ticket = support.ticket_url
    if ticket:
        # plain replace, not str.format: a ticket URL may hold other braces
        for name, value in (("title", subject), ("summary", summary or subject),
                            ("path", " / ".join(path) or page_url)):
            ticket = ticket.replace("{" + name + "}", quote(value, safe=""))
    return ContactLinks(mailto, ticket)
