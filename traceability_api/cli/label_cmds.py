"""``agritrace labels``: a printable PDF sheet of lot labels."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from traceability_api.cli.common import app, clean_errors, progress, settings, summary


class Layout(StrEnum):
    """The sheet layouts of ``labels.pdf.LAYOUTS`` (kept equal by a test; listed here so that
    ``--help`` needs no reportlab)."""

    a4_3x8 = "a4-3x8"
    a4_2x7 = "a4-2x7"
    a4_4x10 = "a4-4x10"
    thermal_60x40 = "thermal-60x40"
    thermal_100x50 = "thermal-100x50"


@app.command()
@clean_errors
def labels(
    gtin: Annotated[str, typer.Argument(help="GTIN of the product")],
    lot: Annotated[str, typer.Argument(help="lot code")],
    out: Annotated[Path, typer.Option(help="PDF file to write")] = Path("labels.pdf"),
    copies: Annotated[int, typer.Option(min=1, max=5000)] = 24,
    layout: Annotated[Layout, typer.Option(help="sheet layout")] = Layout.a4_3x8,
) -> None:
    """Print lot labels (QR code with the lot's Digital Link) to a PDF.  Serialised labels with
    signed tokens: POST /api/v1/lots/{id}/labels."""
    from sqlmodel import Session

    from labels.digital_link import DigitalLinkError, build
    from labels.pdf import LAYOUTS, LabelData, LabelError, render
    from traceability_api.compose import build_runtime
    from traceability_api.consumer.labels_router import base_url_warning, label_fields, refuse_recalled
    from traceability_api.errors import ConfigError
    from traceability_api.lots.service import find_lot

    st = settings()
    runtime = build_runtime(st, with_chain=False)
    try:
        with progress("labels") as bar, Session(runtime.engine) as s:
            bar("lot", 0, 1)
            try:
                dl = build(gtin, lot)
            except DigitalLinkError as exc:
                raise ConfigError(str(exc)) from exc
            found = find_lot(s, dl.key, lot)
            if found is None:
                raise ConfigError(f"no lot {lot} of GTIN {dl.key}")
            refuse_recalled(found[0])
            common, expiry = label_fields(s, *found)
            uri = build(dl.key, lot, expiry=expiry).uri(st.public_base_url)
            bar("lot", 1, 1)
            bar("PDF", 0, copies)
            try:
                pdf = render([LabelData(**common, qr_payload=uri)] * copies, LAYOUTS[layout.value])
            except LabelError as exc:
                raise ConfigError(str(exc)) from exc
            bar("PDF", copies, copies)
        out.write_bytes(pdf)
        typer.echo(f"wrote {copies} labels ({layout.value}) for {uri} to {out}")
        warning = base_url_warning(st.public_base_url)
        if warning:
            typer.secho(warning, fg=typer.colors.RED, bold=True, err=True)
        summary("labels", {"labels": copies, "layout": layout.value, "QR target": uri, "file": out, "bytes": len(pdf)})
    finally:
        runtime.close()
