"""Damaged stored files, noted per park until the user restores or removes what they held.

When a store finds a file it cannot read it moves it to ``quarantine/`` and adds a note here
(``<data_dir>/parks/<park_id>/damage.json``): which file, what was wrong, where the bytes went,
which area of the app it affects (``"uploads"``, ``"survey"``) and the id of the upload or wave
involved. Pages show the notes of their area; the Data page offers the fix. The note itself is
written atomically; an unreadable note file is replaced (it only ever repeats what quarantine
holds).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from retention.errors import DamagedFileError
from retention.storage.files import (
    ManifestDamageError,
    atomic_write_bytes,
    folder_lock,
    manifest_bytes,
    parse_manifest_entries,
    previous_copies,
    quarantine,
    write_manifest,
)
from retention.storage.layout import park_dir

DAMAGE_FILE = "damage.json"
UPLOADS_AREA = "uploads"
SURVEY_AREA = "survey"


@dataclass(frozen=True)
class DamageNote:
    """One damaged file.

    Parameters
    ----------
    area
        ``"uploads"`` or ``"survey"``: the pages that use it.
    file
        The damaged file, relative to the data directory.
    problem
        What was wrong, in words.
    quarantined_to
        Where its bytes were moved (relative to the data directory), ``None`` if it was missing.
    item
        The upload or wave id it belongs to, or ``""`` for a manifest.
    noted_at
        ISO 8601 UTC time.
    """

    area: str
    file: str
    problem: str
    quarantined_to: str | None
    item: str
    noted_at: str

    def message(self) -> str:
        """Return the note as one sentence (English; pages translate the frame around it)."""
        moved = f"; moved to {self.quarantined_to}" if self.quarantined_to else ""
        return f"{self.file}: {self.problem}{moved}"


class DamageLog:
    """The damage notes of every park under ``data_dir``."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)

    def _path(self, park_id: str) -> Path:
        return park_dir(self.data_dir, park_id) / DAMAGE_FILE

    def notes(self, park_id: str, *, area: str | None = None) -> list[DamageNote]:
        """Return the park's open notes (of one area, or all)."""
        path = self._path(park_id)
        if not path.is_file():
            return []
        try:
            entries = json.loads(path.read_text(encoding="utf-8"))
            found = [DamageNote(**entry) for entry in entries]
        except (ValueError, TypeError):
            return []
        return [n for n in found if area is None or n.area == area]

    def add(
        self,
        park_id: str,
        *,
        area: str,
        file: str,
        problem: str,
        quarantined_to: str | None,
        item: str = "",
    ) -> DamageNote:
        """Add a note (one per file: a newer note about the same file replaces the older)."""
        note = DamageNote(
            area=area,
            file=file,
            problem=problem,
            quarantined_to=quarantined_to,
            item=item,
            noted_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        )
        with folder_lock(park_dir(self.data_dir, park_id)):
            kept = [n for n in self.notes(park_id) if n.file != file]
            self._write(park_id, [*kept, note])
        return note

    def resolve(self, park_id: str, *, file: str | None = None, item: str | None = None) -> None:
        """Drop the notes about ``file`` or about ``item`` (after a restore or a removal)."""
        with folder_lock(park_dir(self.data_dir, park_id)):
            notes = self.notes(park_id)
            kept = [
                n
                for n in notes
                if not ((file is not None and n.file == file) or (item and n.item == item))
            ]
            if len(kept) != len(notes):
                self._write(park_id, kept)

    def _write(self, park_id: str, notes: list[DamageNote]) -> None:
        path = self._path(park_id)
        if not notes:
            path.unlink(missing_ok=True)
            return
        text = json.dumps([asdict(n) for n in notes], ensure_ascii=False, indent=1)
        atomic_write_bytes(path, text.encode("utf-8"))


def read_guarded_entries(
    path: Path,
    *,
    key: str,
    required: Sequence[str],
    data_dir: Path,
    park_id: str,
    area: str,
    what: str,
) -> list[dict[str, Any]]:
    """Return a manifest's entries; a damaged manifest is quarantined, noted and reads as empty.

    Parameters
    ----------
    path
        The manifest (absent: no entries).
    key, required
        The entries' list name and the fields each must have.
    data_dir, park_id, area
        Where the park lives and which area's pages the note is shown on.
    what
        The manifest in words (``"the upload list"``), for the note.
    """
    if not path.is_file():
        return []
    try:
        return parse_manifest_entries(path.read_bytes(), key=key, required=required)
    except ManifestDamageError as err:
        with folder_lock(park_dir(data_dir, park_id)):
            try:  # a writer may have replaced it meanwhile, or another reader moved it
                return parse_manifest_entries(path.read_bytes(), key=key, required=required)
            except (ManifestDamageError, FileNotFoundError):
                pass
            moved = quarantine(path, root=data_dir)
            DamageLog(data_dir).add(
                park_id,
                area=area,
                file=path.relative_to(data_dir).as_posix(),
                problem=f"{what} cannot be read ({err})",
                quarantined_to=None if moved is None else moved.relative_to(data_dir).as_posix(),
            )
        return []


def restore_manifest(
    path: Path, *, key: str, required: Sequence[str], data_dir: Path, park_id: str, what: str
) -> int:
    """Put back the newest readable kept copy of a manifest; return how many entries it lists.

    Raises
    ------
    DamagedFileError
        When no readable copy is kept.
    """
    relative = path.relative_to(data_dir).as_posix()
    with folder_lock(park_dir(data_dir, park_id)):
        for copy in previous_copies(path):
            raw = copy.read_bytes()
            try:
                entries = parse_manifest_entries(raw, key=key, required=required)
            except ManifestDamageError:
                continue
            atomic_write_bytes(path, raw)
            DamageLog(data_dir).resolve(park_id, file=relative)
            return len(entries)
    raise DamagedFileError(
        f"no readable earlier copy of {what} is kept; import the files again", file=relative
    )


@dataclass(frozen=True)
class ManifestSpec:
    """One kind of guarded per-park manifest (the upload list, the survey wave list).

    Parameters
    ----------
    key
        The entries' list name in the manifest (``"uploads"``).
    required
        The fields every entry must have.
    area
        Which area's pages show a damage note (``UPLOADS_AREA``).
    what
        The manifest in words (``"the upload list"``), for notes and errors.
    version
        The manifest format version written.
    """

    key: str
    required: tuple[str, ...]
    area: str
    what: str
    version: int


class GuardedManifestFiles:
    """The manifest half a file store of per-park records shares (uploads, survey waves).

    A subclass sets ``MANIFEST`` and has ``data_dir``, ``damage`` (its ``DamageLog``) and
    ``manifest_path(park_id)``. A damaged manifest is quarantined and noted on reading, and reads
    as empty until :meth:`restore_manifest` puts back a kept copy.
    """

    MANIFEST: ManifestSpec
    data_dir: Path
    damage: DamageLog

    def manifest_path(self, park_id: str) -> Path:
        """The park's manifest file (may not exist yet)."""
        raise NotImplementedError

    def manifest_bytes(self, park_id: str) -> bytes:
        """Return the manifest's bytes (``b""`` when the park has none yet): a cache-key input."""
        return manifest_bytes(self.manifest_path(park_id))

    def _guard(self, park_id: str) -> dict[str, Any]:
        spec = self.MANIFEST
        return {
            "key": spec.key,
            "required": spec.required,
            "data_dir": self.data_dir,
            "park_id": park_id,
            "what": spec.what,
        }

    def _manifest_entries(self, park_id: str) -> list[dict[str, Any]]:
        path = self.manifest_path(park_id)
        return read_guarded_entries(path, area=self.MANIFEST.area, **self._guard(park_id))

    def _write_manifest(self, park_id: str, records: Sequence[Any]) -> None:
        spec = self.MANIFEST
        write_manifest(self.manifest_path(park_id), records, key=spec.key, version=spec.version)

    def damage_notes(self, park_id: str) -> list[DamageNote]:
        """Return the park's damaged files of this area not yet resolved."""
        return self.damage.notes(park_id, area=self.MANIFEST.area)

    def manifest_copies(self, park_id: str) -> list[Path]:
        """Return the kept copies of the manifest (the last ones written), newest first."""
        return previous_copies(self.manifest_path(park_id))

    def restore_manifest(self, park_id: str) -> int:
        """Put back the newest readable kept copy of the manifest; return how many entries it has.

        Raises
        ------
        DamagedFileError
            When no readable copy is kept.
        """
        return restore_manifest(self.manifest_path(park_id), **self._guard(park_id))


def quarantine_and_note(
    path: Path,
    *,
    data_dir: Path,
    park_id: str,
    area: str,
    problem: str,
    item: str,
    move: bool = True,
) -> DamageNote:
    """Move a damaged file to quarantine (under the park's lock) and note it; return the note.

    ``move=False`` notes the file but leaves it in place (a file several items share).
    """
    moved = None
    if move:
        with folder_lock(park_dir(data_dir, park_id)):
            moved = quarantine(path, root=data_dir)
    return DamageLog(data_dir).add(
        park_id,
        area=area,
        file=path.relative_to(data_dir).as_posix(),
        problem=problem,
        quarantined_to=None if moved is None else moved.relative_to(data_dir).as_posix(),
        item=item,
    )
