"""`kgrag serve`: start the Gradio app on loopback (another interface only when asked)."""

from __future__ import annotations

import argparse
import ipaddress
import sys

from ui.commands.common import add_engine_options

LOOPBACK = "127.0.0.1"


def register(commands: argparse._SubParsersAction, evals: argparse._SubParsersAction) -> None:
    """Add `serve` to the parser."""
    serve = commands.add_parser(
        "serve",
        help="start the web app (Ask, Lineage, Papers, Export, Index) on 127.0.0.1",
        description="Start the kgrag Gradio app. It binds 127.0.0.1 unless --host says "
        "otherwise, never creates a share link, and loads nothing from the network.",
    )
    serve.add_argument("--host", default=LOOPBACK,
                       help="interface to bind (default 127.0.0.1; anything else is reachable "
                       "from other machines: a warning is printed)")  # fmt: skip
    serve.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    add_engine_options(serve)
    serve.add_argument("--no-warm-up", action="store_true",
                       help="load the models at the first question instead of right after start")  # fmt: skip
    serve.set_defaults(handler=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    from ui.app import launch
    from ui.app_services import AppServices, ServeOptions

    if not 0 < args.port < 65536:
        print(f"kgrag: error: --port {args.port} is not a port number (1-65535).", file=sys.stderr)
        return 2
    if not is_loopback(args.host):
        print(
            f"kgrag: warning: serving on {args.host}: anyone who can reach this machine on port "
            f"{args.port} can use the app and read your corpus. Use --host 127.0.0.1 to keep it "
            "local.",
            file=sys.stderr,
        )
    model = str(args.model) if args.model else None
    options = ServeOptions(corpus=args.corpus, index_dir=args.index_dir, embedder=args.embedder,
                           model=model, vector_uri=args.vector_uri,
                           chat_format=args.chat_format)  # fmt: skip
    services = AppServices(options)
    services.kg()  # a bad corpus is one clear line now, not a broken page later
    try:
        launch(services, args.host, args.port, quiet=True, warm_up=not args.no_warm_up)
    except OSError as exc:  # port taken, address not on this machine, …
        print(f"kgrag: error: cannot serve on {args.host}:{args.port} ({exc}); pick another "
              "--port.", file=sys.stderr)  # fmt: skip
        return 2
    return 0


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
