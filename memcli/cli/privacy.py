"""encrypt and decrypt."""

from __future__ import annotations

import typer

from memcli.cli.options import JsonOpt, QuietOpt
from memcli.cli.output import Output
from memcli.cli.root import app
from memcli.cli.state import start
from memcli.service import privacy
from memcli.service.privacy import ConvertReport


@app.command()
def encrypt(ctx: typer.Context, json_out: JsonOpt = False, quiet: QuietOpt = False) -> None:
    """Encrypt the store in place; its new key goes to the OS keyring (or is MEMCLI_KEY).

    \b
    Examples:
      memcli encrypt
      MEMCLI_KEY=... memcli encrypt
    """
    context, out = start(ctx, json_out, quiet)
    report = privacy.encrypt(context)
    _report(out, report, "encrypted")
    if not out.json and report.key and report.key.startswith("OS keyring"):
        out.info(f"back the key up: keyring get memcli {report.store.resolve()}")


@app.command()
def decrypt(ctx: typer.Context, json_out: JsonOpt = False, quiet: QuietOpt = False) -> None:
    """Rewrite the store unencrypted and remove its key from the keyring.

    \b
    Examples:
      memcli decrypt
    """
    context, out = start(ctx, json_out, quiet)
    report = privacy.decrypt(context)
    _report(out, report, "decrypted")
    if not out.json and report.key_removed:
        out.info("removed its key from the OS keyring")


def _report(out: Output, report: ConvertReport, done: str) -> None:
    if out.json:
        out.data(
            {
                "store": str(report.store),
                "encrypted": done == "encrypted",
                "key": report.key,
                "key_removed": report.key_removed,
                "bytes_before": report.bytes_before,
                "bytes_after": report.bytes_after,
            }
        )
        return
    out.info(f"{done} {report.store} ({report.bytes_before:,} -> {report.bytes_after:,} bytes)")
    if report.key:
        out.info(f"its key: {report.key}")
