"""``python -m connectors.xero.sandbox``: run a sandbox in the foreground."""

from __future__ import annotations

import argparse
import json

from .app import XeroSandbox


def main() -> None:
    parser = argparse.ArgumentParser(description="Local Xero Accounting API sandbox")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--invoices", type=int, default=200)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--region", default="NZ", choices=("NZ", "UK", "AU", "US"))
    parser.add_argument("--strict", action="store_true", help="every unkind mode on")
    args = parser.parse_args()
    sandbox = XeroSandbox(
        seed=args.seed,
        invoices=args.invoices,
        host=args.host,
        port=args.port,
        region=args.region,
        strict=args.strict,
    )
    print(json.dumps(sandbox.org_config(), indent=2), flush=True)
    try:
        sandbox.serve_forever()
    except KeyboardInterrupt:
        sandbox.stop()


if __name__ == "__main__":
    main()
