"""What pages show about damaged stored files (``retention.storage.damage``) and refused saves.

A damaged file never takes a page down: the store sets it aside and notes it, and the pages
that use that area (uploads: the Data page; survey: Survey, Enterprise, Gaps) say which file and
what the user can do. Only the Data and Survey pages offer the fix (restore or remove).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import streamlit as st

from retention.errors import DamagedFileError
from retention.i18n import t
from retention.storage.damage import DamageNote
from ui import cached, state

RESTORED_FLASH = "store.restored_flash"  # shown once after a restore and its rerun


def damage_notices(
    notes: Sequence[DamageNote],
    *,
    headline: str,
    restore: Callable[[], int] | None = None,
    key: str,
) -> None:
    """Show the damage notes under ``headline``; offer ``restore`` for a damaged manifest.

    Parameters
    ----------
    notes
        The area's open notes (``store.uploads.damage_notes(park_id)``).
    headline
        The catalogue key of the sentence saying what is affected.
    restore
        Puts back the last good manifest and returns how many entries it lists; the button is
        shown only when a manifest (a note without an item) is damaged.
    key
        Namespace of the restore button's key.
    """
    lang = state.lang()
    if RESTORED_FLASH in st.session_state:
        st.success(st.session_state.pop(RESTORED_FLASH))
    if not notes:
        return
    with st.container(border=True, key=f"{key}.damage"):
        st.error(t(headline, lang), icon=":material/report:")
        for note in notes:
            st.caption(note.message())
        manifest_damaged = any(not note.item for note in notes)
        if (
            manifest_damaged
            and restore is not None
            and st.button(t("store.restore", lang), key=f"{key}.restore")
        ):
            try:
                count = restore()
            except DamagedFileError as error:
                st.error(t("store.restore_failed", lang))
                st.caption(str(error))
            else:
                st.session_state[RESTORED_FLASH] = t("store.restored", lang, count=count)
                st.rerun()
        if any(note.item for note in notes):
            st.caption(t("store.remove_hint", lang))


def stale_notice(detail: str) -> None:
    """Show a refused save (``StaleVersionError``): what happened, and the store's detail."""
    st.error(t("store.stale", state.lang()))
    st.caption(detail)


def survey_damage_notice(park_id: str, *, offer_restore: bool = False) -> None:
    """Show the park's damaged survey files (Survey, Enterprise and Gaps pages).

    Reads the wave list first, so a damaged list is found (and set aside) on this run.
    """
    waves = cached.store().waves
    waves.list_waves(park_id)
    damage_notices(
        waves.damage_notes(park_id),
        headline="store.damaged_survey",
        restore=(lambda: int(waves.restore_manifest(park_id))) if offer_restore else None,
        key="survey_store",
    )
