"""UTF-16 text files — Excel's "Unicode text" (另存为 Unicode 文本), tab-separated — told by
their byte-order mark, for every reader of CSV text (layers, survey waves, the row limit).

A UTF-16 file without a byte-order mark cannot be told apart from other bytes for sure; its NUL
bytes give it away, and it is refused with how to save it instead of being read as garbled text.
"""

from __future__ import annotations

import codecs

from retention.errors import FileFormatError

UTF16_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def utf16_text(data: bytes, *, file_name: str) -> tuple[str, str] | None:
    """Return the text and encoding of bytes that start with a UTF-16 byte-order mark (the mark
    removed), else ``None``.

    Raises
    ------
    FileFormatError
        A UTF-16 file with bytes that are not UTF-16 (naming the byte offset).
    """
    if data.startswith(codecs.BOM_UTF32_LE):
        return None  # FF FE 00 00: not UTF-16; the NUL check below names it
    for bom, encoding in UTF16_BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding), encoding
            except UnicodeDecodeError as exc:
                raise FileFormatError(
                    f"byte offset {exc.start + len(bom)} is not valid {encoding.upper()} although "
                    "the file starts with its byte-order mark; expected a text file saved as "
                    "'CSV UTF-8' or 'Unicode text'",
                    file=file_name,
                ) from None
    return None


def refuse_nul_bytes(data: bytes, *, file_name: str) -> None:
    """Refuse text without a UTF-16 byte-order mark that holds NUL bytes (which no CSV has).

    Raises
    ------
    FileFormatError
        Naming the first NUL byte's offset and how to save the file.
    """
    offset = data.find(b"\x00")
    if offset >= 0:
        raise FileFormatError(
            f"file contains NUL bytes (first at byte offset {offset}): UTF-16 or "
            "another wide encoding without a byte-order mark; expected a text CSV — save it "
            "in Excel/WPS as 'CSV UTF-8' or 'Unicode text'",
            file=file_name,
        )
