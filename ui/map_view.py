"""Show a folium map in Streamlit with its front-end assets served by the app itself."""

from __future__ import annotations

import folium
import streamlit as st
from streamlit_folium import st_folium

from retention.i18n import t
from retention.maps import VENDORED_ASSETS, use_local_assets
from ui import state

VENDOR_DIR = state.REPO / "static" / "vendor"


def asset_base_url() -> str:
    """Return the URL path of ``static/vendor`` as this server serves it (honours baseUrlPath)."""
    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}/app/static/vendor" if base else "/app/static/vendor"


def assets_installed() -> bool:
    """Whether every vendored front-end file exists (``scripts/setup.sh`` puts them there)."""
    return all((VENDOR_DIR / path).is_file() for path in VENDORED_ASSETS.values())


def show_map(m: folium.Map, *, key: str, height: int = 640) -> None:
    """Render ``m`` full width, linking Leaflet and plugins from the app, not from CDNs.

    The map does not send pans and zooms back (``returned_objects=[]``), so moving it never reruns
    the page. When the vendored assets are missing the map would be blank, so a specific error
    says how to install them instead.

    Parameters
    ----------
    m
        A map from ``retention.maps`` (or any folium map using vendored plugins only).
    key
        Namespaced widget key, e.g. ``"map.park_map"``.
    height
        Height in pixels.
    """
    if not assets_installed():
        st.error(t("common.assets_missing", state.lang(), path=str(VENDOR_DIR)))
        return
    use_local_assets(m, asset_base_url=asset_base_url())
    st_folium(m, key=key, height=height, use_container_width=True, returned_objects=[])
