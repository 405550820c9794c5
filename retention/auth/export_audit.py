"""One audit line per download or export: who, what, which park and scope, when.

Every file ParkLife hands out — a page's download button, ``parklife report``, ``score``,
``export-park`` — is recorded as an ``export`` event through :func:`record_export`, so the Audit
log page lists them all in one shape. The line names what was exported (one of
:data:`EXPORT_KINDS`), the file name, the user's scope (``all``, ``hr:E1,E7``, ``viewer``) and
the options that decide its content (enterprise, scenario, format); never the content itself.
"""

from __future__ import annotations

from pathlib import Path

from retention.auth import audit
from retention.auth.roles import UserScope

EXPORT_KINDS: tuple[str, ...] = (
    "survey_results",  # Survey page: aggregate tables (IPA, means, reasons, weighting)
    "survey_wave_report",  # Survey page: a stored wave's validation report
    "survey_rejected_rows",  # Survey page: rows of the file being imported that were rejected
    "survey_template",  # Survey page: the empty ParkLife questionnaire template
    "layer_rejected_rows",  # Data page: rejected rows of the file being uploaded
    "layer_issues",  # Data page: validation issues of the file being uploaded
    "upload_report",  # Data page: a stored upload's validation report
    "layer_template",  # Data page: an empty layer template
    "parameters",  # Assumptions page: the saved parameters (TOML) or their table (CSV)
    "scenario",  # Scenarios and Reports pages, `parklife report --format json`: scenario JSON
    "snapshot",  # Reports page, `parklife report`: the meeting snapshot
    "scores",  # `parklife score`: indicators and gap index
    "park_archive",  # `parklife export-park`: the whole park
    "park_comparison",  # Park comparison page: the parks of one batch run (XLSX, HTML)
)
"""What may be exported (the ``what`` of an export line)."""


def export_detail(
    scope: UserScope, what: str, file_name: str, **options: object
) -> dict[str, object]:
    """Return the detail of an export line (``what``, ``file``, ``scope`` and ``options``).

    Raises
    ------
    ValueError
        If ``what`` is not one of :data:`EXPORT_KINDS`.
    """
    if what not in EXPORT_KINDS:
        raise ValueError(f"unknown export {what!r}; expected one of {', '.join(EXPORT_KINDS)}")
    detail: dict[str, object] = {"what": what, "file": Path(file_name).name}
    detail["scope"] = scope.canonical()
    detail.update({name: value for name, value in options.items() if value is not None})
    return detail


def record_export(
    data_dir: Path,
    scope: UserScope,
    what: str,
    file_name: str,
    *,
    park_id: str = "",
    **options: object,
) -> audit.AuditEvent:
    """Append an ``export`` line to the audit log and return it.

    Parameters
    ----------
    data_dir
        The ParkLife data directory.
    scope
        Who exported.
    what
        One of :data:`EXPORT_KINDS`.
    file_name
        The file handed out (its name only is kept).
    park_id
        The park exported from.
    options
        What decides the content (``enterprise``, ``scenario``, ``format``, ...); ``None``
        values are left out.
    """
    return audit.record(
        data_dir,
        scope,
        audit.AuditAction.EXPORT,
        park_id=park_id,
        detail=export_detail(scope, what, file_name, **options),
    )
