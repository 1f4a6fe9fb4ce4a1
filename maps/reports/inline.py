"""Make a folium page self-contained: every <script src> and stylesheet <link> is replaced by the
file's text from local copies (maps/node_modules, folium's own templates); libraries the report
does not use (jQuery, Bootstrap, Font Awesome…) are dropped. Nothing on the network remains."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import folium
from django.conf import settings

FOLIUM_TEMPLATES = Path(folium.__file__).resolve().parent / "templates"


def _node_modules() -> Path:
    return Path(getattr(settings, "NODE_MODULES", settings.BASE_DIR / "maps" / "node_modules"))


def _assets() -> dict[str, Path]:
    nm = _node_modules()
    return {
        "leaflet.js": nm / "leaflet" / "dist" / "leaflet.js",
        "leaflet.css": nm / "leaflet" / "dist" / "leaflet.css",
        "leaflet-heat.js": nm / "leaflet.heat" / "dist" / "leaflet-heat.js",
        "leaflet_heat.min.js": FOLIUM_TEMPLATES / "leaflet_heat.min.js",
        "leaflet.markercluster.js": nm
        / "leaflet.markercluster"
        / "dist"
        / "leaflet.markercluster.js",
        "MarkerCluster.css": nm / "leaflet.markercluster" / "dist" / "MarkerCluster.css",
        "MarkerCluster.Default.css": nm
        / "leaflet.markercluster"
        / "dist"
        / "MarkerCluster.Default.css",
    }


SCRIPT = re.compile(r'<script\s+src="([^"]+)"\s*>\s*</script>', re.I)
LINK = re.compile(r'<link\s+rel="stylesheet"\s+href="([^"]+)"\s*/?>', re.I)
CSS_URL = re.compile(r"url\((['\"]?)(images/[^)'\"]+)\1\)")


class MissingAsset(RuntimeError):
    """A needed library is not installed locally (run `make setup`)."""


def _read(name: str) -> str | None:
    path = _assets().get(name)
    if path is None:
        return None
    if not path.is_file():
        raise MissingAsset(f"{path} is missing: run 'make setup' (npm ci in maps/)")
    text = path.read_text(encoding="utf-8")
    if name.endswith(".css"):
        text = CSS_URL.sub(lambda m: f'url("{_data_uri(path.parent / m.group(2))}")', text)
    return text


def _data_uri(path: Path) -> str:
    if not path.is_file():
        return ""
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _safe_script(text: str) -> str:
    return text.replace("</script", "<\\/script")


def inline_assets(html: str) -> str:
    def script(match: re.Match) -> str:
        text = _read(match.group(1).rsplit("/", 1)[-1])
        return "" if text is None else f"<script>{_safe_script(text)}</script>"

    def link(match: re.Match) -> str:
        text = _read(match.group(1).rsplit("/", 1)[-1])
        return "" if text is None else f"<style>{text}</style>"

    html = SCRIPT.sub(script, html)
    html = LINK.sub(link, html)
    leftover = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(https?:)?//', html)
    if leftover:
        raise MissingAsset("a script or stylesheet still points at the network")
    return html
