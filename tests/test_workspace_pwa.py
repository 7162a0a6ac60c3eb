"""The installable app's manifest: every icon it lists downloads as what it says (Android's
installer wants PNGs of 192 and 512 pixels besides the SVG)."""

from __future__ import annotations

import io

from fastapi.testclient import TestClient
from PIL import Image


def test_manifest_icons_download_at_their_sizes(app_client: TestClient) -> None:
    manifest = app_client.get("/app/manifest.webmanifest").json()
    sizes = {i["sizes"] for i in manifest["icons"]}
    assert {"any", "192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        r = app_client.get(icon["src"])
        assert r.status_code == 200 and r.headers["content-type"] == icon["type"], icon
        if icon["type"] == "image/png":
            img = Image.open(io.BytesIO(r.content))
            n = int(icon["sizes"].split("x")[0])
            assert img.format == "PNG" and img.size == (n, n)
            assert img.getpixel((n // 2, n // 2))[:3] == (0xC8, 0xE6, 0xC9)  # the leaf
            assert img.getpixel((n // 2, 2))[:3] == (0x1B, 0x5E, 0x20)  # the green tile
    assert app_client.get("/app/icon-64.png").status_code == 404
