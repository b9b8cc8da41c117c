"""Jitsi Meet join-link customisation: config overrides the web client reads from the URL fragment."""

from __future__ import annotations

import json
from urllib.parse import quote

from yarl import URL

from application.dto import LinkOptions


def personalise_link(link: str, options: LinkOptions) -> str:
    """Jitsi has a language override; it has no company background, so that option is ignored."""
    if options.language is None:
        return link
    url = URL(link, encoded=True)
    # Jitsi reads `#config.<name>=<JSON value>` pairs joined by `&`. The raw parts are reassembled so that
    # the query (a token) and any overrides already present stay byte for byte as they were.
    override = "config.defaultLanguage=" + quote(json.dumps(options.language), safe="")
    fragment = f"{url.raw_fragment}&{override}" if url.raw_fragment else override
    return str(
        URL.build(
            scheme=url.scheme,
            authority=url.raw_authority,
            path=url.raw_path,
            query_string=url.raw_query_string,
            fragment=fragment,
            encoded=True,
        )
    )
