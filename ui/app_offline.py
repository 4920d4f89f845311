"""Keep the served page offline: strip `<meta>` tags that point at external hosts.

Gradio's page template hard-codes `og:image` / `twitter:image` URLs on an external host. Nothing
in kgrag may refer the browser (or a link-preview bot) to the network, so HTML responses pass
through this ASGI middleware, which removes every `<meta>` whose content is an http(s) URL off
loopback. Other responses (the queue's event streams, files, JSON) pass through untouched.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_EXTERNAL_META = re.compile(
    rb"<meta\b[^>]*\bcontent=\"https?://(?!127\.0\.0\.1|localhost|\[::1\])[^\"]*\"[^>]*/?>\s*",
    re.IGNORECASE,
)


def strip_external_meta(html: bytes) -> bytes:
    """`html` without `<meta>` tags whose content is an external http(s) URL."""
    return _EXTERNAL_META.sub(b"", html)


class OfflinePage:
    """ASGI middleware: HTML responses lose their external `<meta>` URLs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def rewrite(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                types = dict(message.get("headers", [])).get(b"content-type", b"")
                if not types.startswith(b"text/html"):
                    await send(message)
                    return
                start = message  # hold the headers until the body is complete
                return
            if start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = strip_external_meta(b"".join(chunks))
            kept = [(k, v) for k, v in start.get("headers", []) if k != b"content-length"]
            kept.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": kept})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, rewrite)
