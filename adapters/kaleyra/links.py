"""Kaleyra join-link customisation: query parameters the Kaleyra web client reads."""

from __future__ import annotations

from yarl import URL

from application.dto import LinkOptions

# `virtual_background` takes `blur` or `image`; `image` is the company's default background.
COMPANY_BACKGROUND = "image"


def personalise_link(link: str, options: LinkOptions) -> str:
    parameters: dict[str, str] = {}
    if options.language is not None:
        parameters["language"] = options.language
    if options.virtual_background:
        parameters["virtual_background"] = COMPANY_BACKGROUND
    if not parameters:
        return link
    # encoded=True: the stored link is already a valid URL and must not be re-escaped.
    url = URL(link, encoded=True)
    if any(name in url.query for name in parameters):
        return str(url.update_query(parameters))  # replace what the link asked for before
    return str(url.extend_query(parameters))  # appends, leaving the existing query byte for byte
