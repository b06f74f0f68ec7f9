"""sitemap.xml and robots.txt for search engines."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from kbengine.site.pages import SitePlan


def sitemap_xml(plan: SitePlan) -> str:
    """Every listed page with its language versions (hreflang alternates)."""
    urls = plan.urls
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
             'xmlns:xhtml="http://www.w3.org/1999/xhtml">']
    for page in plan.pages:
        if not page.listed:
            continue
        lines.append(f"  <url><loc>{escape(urls.absolute(page.url))}</loc>")
        updated = getattr(page.subject, "updated", "")
        if updated and len(str(updated)) >= 10:
            lines.append(f"    <lastmod>{escape(str(updated)[:10])}</lastmod>")
        for lang, url in sorted(page.alternates.items()):
            lines.append(f'    <xhtml:link rel="alternate" hreflang={quoteattr(lang)} '
                         f"href={quoteattr(urls.absolute(url))}/>")
        lines.append("  </url>")
    lines.append("</urlset>")
    return "\n".join(lines) + "\n"


def robots_txt(plan: SitePlan) -> str:
    """Allow everything; name the sitemap when the site's absolute address is known."""
    text = "User-agent: *\nAllow: /\n"
    if plan.urls.origin:
        text += f"Sitemap: {plan.urls.absolute(plan.urls.base)}sitemap.xml\n"
    return text
