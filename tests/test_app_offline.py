"""The page's metadata never points the browser at another host."""

from __future__ import annotations

from ui.app_offline import strip_external_meta

TEMPLATE = b"""<head>
<meta property="og:url" content="{url}" />
<meta
    property="og:image"
    content="https://raw.githubusercontent.com/gradio-app/gradio/main/header-image.jpg"
/>
<meta name="twitter:image" content="http://example.org/x.png" />
<meta name="local" content="http://127.0.0.1:7860/x.png" />
<meta property="og:title" content="kgrag" />
</head>"""


def test_external_meta_urls_are_removed_and_the_rest_kept() -> None:
    page = strip_external_meta(TEMPLATE)
    assert b"githubusercontent" not in page
    assert b"example.org" not in page
    assert b'content="http://127.0.0.1:7860/x.png"' in page
    assert b'property="og:title"' in page
    assert b'property="og:url"' in page
