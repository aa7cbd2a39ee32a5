"""Still images and masks: read PNG/JPEG/WebP/TIFF/BMP/..., write PNG, JPEG
and WebP, and make the small JPEG previews the engine streams to the GUI.

OpenCV decodes and encodes: it keeps 16-bit and float depth (Pillow flattens
16-bit RGB to 8 bits on load) and is fast. Pillow is the fallback for formats
OpenCV lacks and the reader of EXIF orientation, which OpenCV ignores when
asked for the unconverted image.
"""

from __future__ import annotations

import io

import cv2
import numpy as np

from nodes.values import Image, Mask

from . import provenance as _provenance
from ._files import MediaError, PathLike, atomic_output, existing_file, output_extension

IMAGE_FORMATS = (".png", ".jpg", ".jpeg", ".webp")

# Transparent areas become white: a cut-out subject or a logo given as a
# reference image reads as "on a white backdrop", and dark line art stays
# visible (over black it would vanish). Models never see alpha.
BACKGROUND = (255, 255, 255)


def read_image(path: PathLike) -> Image:
    """Decode ``path`` to uint8 RGB.

    Alpha is composited over white (:data:`BACKGROUND`); 16-bit images are
    rounded to 8 bits; float images (EXR, float TIFF) are clipped to [0, 1]
    with no tone mapping; grayscale becomes three equal channels; EXIF
    orientation is applied, so phone photos come out upright.
    """
    p = existing_file(path)
    raw, scale = _decode(p)
    if raw.ndim == 2:
        raw = raw[:, :, None]
    color = raw[:, :, :3] if raw.shape[2] >= 3 else np.repeat(raw[:, :, :1], 3, axis=2)
    alpha = raw[:, :, 3 if raw.shape[2] >= 4 else 1] if raw.shape[2] in (2, 4) else None
    if alpha is None and raw.dtype == np.uint8:
        return Image(np.ascontiguousarray(color))
    # Work in float at full depth so compositing and the 16->8 bit step round
    # once, at the end.
    rgb = color.astype(np.float32) / scale
    if alpha is not None:
        a = alpha.astype(np.float32)[:, :, None] / scale
        rgb = rgb * a + np.asarray(BACKGROUND, np.float32) / 255.0 * (1.0 - a)
    return Image(np.round(np.clip(rgb, 0.0, 1.0) * 255.0).astype(np.uint8))


def read_mask(path: PathLike) -> Mask:
    """Decode a grayscale image as a mask: white is 1, black is 0.

    Colour images are reduced to their luminance. An image whose colour is
    one flat value and whose shape is drawn only in the alpha channel (how
    some editors export selections) is read from its alpha instead.
    """
    p = existing_file(path)
    raw, scale = _decode(p)
    if raw.ndim == 2:
        values = raw.astype(np.float32) / scale
    else:
        color = raw[:, :, :3] if raw.shape[2] >= 3 else raw[:, :, :1]
        alpha = raw[:, :, 3 if raw.shape[2] >= 4 else 1] if raw.shape[2] in (2, 4) else None
        if alpha is not None and np.ptp(color) == 0 and np.ptp(alpha) > 0:
            values = alpha.astype(np.float32) / scale
        elif color.shape[2] == 1:
            values = color[:, :, 0].astype(np.float32) / scale
        else:
            values = cv2.cvtColor(color.astype(np.float32) / scale, cv2.COLOR_RGB2GRAY)
    return Mask(values)


def write_image(path: PathLike, image: Image | np.ndarray, *, quality: int = 95, provenance: str | None = None,
                overwrite: bool = True) -> None:
    """Write ``.png`` (lossless), ``.jpg``/``.jpeg`` or ``.webp`` (lossy at
    ``quality``, 1..100), atomically. ``provenance`` (engines.media.provenance)
    goes into a PNG text chunk, a JPEG comment or a WebP XMP packet;
    ``overwrite=False`` refuses to replace a file."""
    pixels = image.pixels if isinstance(image, Image) else Image(np.asarray(image)).pixels
    _write(path, cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR), quality, provenance=provenance, overwrite=overwrite)


def write_mask(path: PathLike, mask: Mask) -> None:
    """Write a still mask as an 8-bit grayscale image (white = 1), atomically."""
    if mask.per_frame:
        raise ValueError(f"cannot write a per-frame mask ({mask.values.shape[0]} frames) as one image to {path}")
    _write(path, np.round(mask.values * 255.0).astype(np.uint8), 100)


def preview_jpeg(pixels: np.ndarray, max_side: int = 192, quality: int = 80) -> bytes:
    """A small JPEG of an RGB uint8 frame, for progress events.

    Scaled down (never up) so its longer side is at most ``max_side``, with
    area averaging, which keeps fine noise from aliasing into patterns.
    """
    pixels = Image(np.asarray(pixels)).pixels
    h, w = pixels.shape[:2]
    scale = max_side / max(h, w)
    if scale < 1.0:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        pixels = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise MediaError("could not encode the preview as JPEG")
    return data.tobytes()


# --------------------------------------------------------------------------


def _write(path: PathLike, array: np.ndarray, quality: int, *, provenance: str | None = None,
           overwrite: bool = True) -> None:
    ext = output_extension(path, IMAGE_FORMATS, "an image")
    quality = int(min(100, max(1, quality)))
    params = {
        ".png": [cv2.IMWRITE_PNG_COMPRESSION, 3],
        ".jpg": [cv2.IMWRITE_JPEG_QUALITY, quality],
        ".jpeg": [cv2.IMWRITE_JPEG_QUALITY, quality],
        ".webp": [cv2.IMWRITE_WEBP_QUALITY, quality],
    }[ext]
    # Encode to memory and write the bytes ourselves: cv2.imwrite cannot open
    # non-ASCII paths on Windows, and this way the write is atomic.
    ok, data = cv2.imencode(ext, array, params)
    if not ok:
        raise MediaError(f"could not encode {path} as {ext}")
    encoded = data.tobytes()
    if provenance is not None and ext == ".png":
        encoded = _provenance.png_with_payload(encoded, provenance)
    elif provenance is not None and ext in (".jpg", ".jpeg"):
        encoded = _provenance.jpeg_with_payload(encoded, provenance)
    elif provenance is not None and ext == ".webp":
        encoded = _provenance.webp_with_payload(encoded, provenance, array.shape[1], array.shape[0])
    with atomic_output(path, overwrite=overwrite) as temp:
        temp.write_bytes(encoded)


def _decode(p) -> tuple[np.ndarray, float]:
    """Pixels as stored (RGB/RGBA channel order, native depth) and the value
    that means full intensity at that depth."""
    data = np.fromfile(p, dtype=np.uint8)  # not cv2.imread: non-ASCII paths
    raw = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if raw is not None:
        # OpenCV's order is BGR(A); reorder by indexing, which works for any
        # depth (cvtColor rejects 32-bit integer images).
        if raw.ndim == 3 and raw.shape[2] == 3:
            raw = raw[:, :, ::-1]
        elif raw.ndim == 3 and raw.shape[2] == 4:
            raw = raw[:, :, [2, 1, 0, 3]]
    else:
        raw = _decode_with_pillow(p, data)
    raw = _orient(raw, _exif_orientation(data))
    if raw.dtype == np.uint8:
        scale = 255.0
    elif raw.dtype == np.uint16:
        scale = 65535.0
    elif np.issubdtype(raw.dtype, np.floating):
        scale = 1.0
    else:  # 32-bit integer images (rare TIFFs)
        scale = float(np.iinfo(raw.dtype).max)
    return raw, scale


def _decode_with_pillow(p, data: np.ndarray) -> np.ndarray:
    from PIL import Image as PILImage

    try:
        with PILImage.open(io.BytesIO(data.tobytes())) as im:
            im.load()
            if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
                return np.asarray(im.convert("RGBA"))
            if im.mode in ("I;16", "I;16B", "I;16L", "I;16N"):
                return np.asarray(im).astype(np.uint16)
            if im.mode in ("I", "F"):
                return np.asarray(im)
            return np.asarray(im.convert("RGB"))
    except Exception as error:  # Pillow raises many types for bad data
        raise MediaError(f"{p} could not be decoded as an image") from error


def _exif_orientation(data: np.ndarray) -> int:
    try:
        from PIL import Image as PILImage

        with PILImage.open(io.BytesIO(data.tobytes())) as im:  # reads headers only
            return int(im.getexif().get(0x0112, 1))
    except Exception:
        return 1


def _orient(a: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation (1-8) the way Pillow's exif_transpose does."""
    if orientation == 2:
        return a[:, ::-1]
    if orientation == 3:
        return a[::-1, ::-1]
    if orientation == 4:
        return a[::-1]
    if orientation == 5:
        return np.swapaxes(a, 0, 1)
    if orientation == 6:
        return np.rot90(a, k=-1)
    if orientation == 7:
        return np.swapaxes(a[::-1, ::-1], 0, 1)
    if orientation == 8:
        return np.rot90(a, k=1)
    return a
