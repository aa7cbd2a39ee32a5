"""The project that made a render, embedded in the render itself.

Every file a Save node writes carries the project it came from (the project
file's own JSON, every parameter, seed and model id) and how it was rendered
(the models profile, Draft or Final, the project's folder for its relative
input paths). Dropping the file on the studio opens that graph again, and
``weft render --from FILE`` renders it again. This module is the one place
that knows how the text goes into each format and how it comes back out:

- MP4 and MOV: a ``weft`` metadata key (FFmpeg's ``use_metadata_tags``), in
  the ``udta/meta`` atom where QuickTime keeps its own keys;
- WebM: a ``WEFT`` Matroska tag; FLAC: a ``WEFT`` Vorbis comment;
- WAV: the ``ICMT`` (comment) entry of the LIST/INFO chunk, the only free-text
  entry FFmpeg's WAV muxer writes;
- PNG: a ``tEXt`` chunk with the keyword ``weft``; JPEG: a comment (COM)
  segment (up to 64 KiB); WebP: an XMP packet (the ``XMP `` chunk of the
  extended format, where exiftool and image viewers look) whose ``weft:project``
  element holds the text.

The text is ASCII JSON (``ensure_ascii``), so no container's idea of a text
encoding can change it. Reading it back parses JSON and nothing else; the
project inside goes through ``nodes.project.from_dict`` like any project file,
so a file from anywhere can never run code.
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape, unescape as xml_unescape

KEY = "weft"
# The payload's own format, separate from the project's schema inside it.
FORMAT = 1
_JPEG_COMMENT_MAX = 65533


@dataclass(frozen=True)
class Embedded:
    """What a render says about itself."""

    project: dict[str, Any]   # a project file's dict (nodes.project.to_dict)
    render: dict[str, Any]    # project_name, project_dir, node, models, quality, name_fields
    source: Path              # the file it was read from

    @property
    def project_name(self) -> str:
        name = self.render.get("project_name")
        return name if isinstance(name, str) and name else "untitled"

    @property
    def project_dir(self) -> Path | None:
        """The rendered project's folder (its relative input paths start there), if it still exists."""
        folder = self.render.get("project_dir")
        if isinstance(folder, str) and folder and Path(folder).is_dir():
            return Path(folder)
        return None

    @property
    def name_fields(self) -> dict[str, str]:
        """The file-name fields the render filled beyond the engine's own (a batch job's)."""
        fields = self.render.get("name_fields")
        if not isinstance(fields, dict):
            return {}
        return {str(k): str(v) for k, v in fields.items() if isinstance(v, (str, int, float))}

    @property
    def models(self) -> str | None:
        models = self.render.get("models")
        return models if models in ("tiny", "default") else None


def make_payload(project: dict[str, Any], render: dict[str, Any]) -> str:
    return json.dumps({"weft_render": FORMAT, "render": render, "project": project}, ensure_ascii=True,
                      separators=(",", ":"))


def parse_payload(text: str | bytes, source: Path) -> Embedded | None:
    """The payload in ``text``, or None if it is not one (a comment someone else wrote)."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("weft_render"), int):
        return None
    project, render = data.get("project"), data.get("render")
    if not isinstance(project, dict) or not isinstance(project.get("weft"), dict):
        return None
    return Embedded(project, render if isinstance(render, dict) else {}, Path(source))


# -- writing ---------------------------------------------------------------------------
def container_tags(payload: str, container_format: str) -> dict[str, str]:
    """The container metadata that carries ``payload`` in an FFmpeg format."""
    if container_format == "wav":
        return {"comment": payload}
    return {KEY: payload}


def container_options(container_format: str) -> dict[str, str]:
    """Muxer options a format needs to keep a custom key (MP4 and MOV drop them otherwise)."""
    return {"movflags": "+use_metadata_tags"} if container_format in ("mp4", "mov") else {}


def png_with_payload(data: bytes, payload: str) -> bytes:
    """PNG bytes with a ``tEXt`` chunk holding ``payload`` right after the header chunk."""
    signature = b"\x89PNG\r\n\x1a\n"
    if not data.startswith(signature) or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    end_of_header = 8 + 8 + struct.unpack(">I", data[8:12])[0] + 4
    body = KEY.encode("latin-1") + b"\x00" + payload.encode("ascii")
    chunk = struct.pack(">I", len(body)) + b"tEXt" + body + struct.pack(">I", zlib.crc32(b"tEXt" + body))
    return data[:end_of_header] + chunk + data[end_of_header:]


def jpeg_with_payload(data: bytes, payload: str) -> bytes:
    """JPEG bytes with a comment segment holding ``payload`` (unchanged if it is too long for one)."""
    if not data.startswith(b"\xff\xd8"):
        raise ValueError("not a JPEG")
    body = payload.encode("ascii")
    if len(body) > _JPEG_COMMENT_MAX:
        return data
    return data[:2] + b"\xff\xfe" + struct.pack(">H", len(body) + 2) + body + data[2:]


_XMP_NS = "https://weft.video/ns/provenance/1.0/"
_XMP_ELEMENT = re.compile(rb"<weft:project>(.*?)</weft:project>", re.S)


def _riff_chunk(fourcc: bytes, body: bytes) -> bytes:
    return fourcc + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) % 2 else b"")


def webp_with_payload(data: bytes, payload: str, width: int, height: int) -> bytes:
    """WebP bytes in the extended format (a VP8X header chunk) with an XMP chunk holding
    ``payload``; the image chunks are kept byte for byte."""
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ValueError("not a WebP")
    chunks = data[12:]
    packet = (f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
              f'<rdf:Description xmlns:weft="{_XMP_NS}"><weft:project>{xml_escape(payload)}</weft:project>'
              f'</rdf:Description></rdf:RDF></x:xmpmeta>').encode("ascii")
    if chunks[:4] == b"VP8X":  # already extended: set the XMP flag
        header = bytearray(chunks[:18])
        header[8] |= 0x04
        body = bytes(header) + chunks[18:]
    else:
        vp8x = bytes([0x04, 0, 0, 0]) + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
        body = _riff_chunk(b"VP8X", vp8x) + chunks
    body += _riff_chunk(b"XMP ", packet)
    return b"RIFF" + struct.pack("<I", len(body) + 4) + b"WEBP" + body


def _from_xmp(xmp: bytes | str, source: Path) -> Embedded | None:
    raw = xmp.encode("utf-8") if isinstance(xmp, str) else xmp
    match = _XMP_ELEMENT.search(raw)
    if match is None:
        return None
    # Only our element is read, with the five XML escapes undone: no XML parser sees the file.
    return parse_payload(xml_unescape(match.group(1).decode("ascii", "replace")), source)


# -- reading ---------------------------------------------------------------------------
def read_embedded(path: str | Path) -> Embedded | None:
    """The project embedded in a render, or None for a file without one (or not media at all)."""
    p = Path(path)
    if not p.is_file():
        return None
    suffix = p.suffix.lower()
    if suffix in (".png", ".jpg", ".jpeg", ".webp"):
        return _from_image(p)
    return _from_container(p)


def _from_image(p: Path) -> Embedded | None:
    from PIL import Image, UnidentifiedImageError
    try:
        with Image.open(p) as image:
            info = dict(image.info)
    except (OSError, UnidentifiedImageError, ValueError):
        return None
    for key in (KEY, "comment"):
        value = info.get(key)
        if isinstance(value, (str, bytes)):
            found = parse_payload(value, p)
            if found is not None:
                return found
    if isinstance(info.get("xmp"), (str, bytes)):
        return _from_xmp(info["xmp"], p)
    return None


def _from_container(p: Path) -> Embedded | None:
    import av
    try:
        container = av.open(str(p), "r")
    except (av.FFmpegError, OSError, ValueError):
        return None
    with container:
        tables = [container.metadata] + [s.metadata for s in container.streams]
    for table in tables:
        lowered = {str(k).lower(): v for k, v in table.items()}
        for key in (KEY, "comment"):
            if key in lowered:
                found = parse_payload(lowered[key], p)
                if found is not None:
                    return found
    return None


__all__ = ["Embedded", "FORMAT", "KEY", "container_options", "container_tags", "jpeg_with_payload",
           "make_payload", "parse_payload", "png_with_payload", "read_embedded", "webp_with_payload"]
