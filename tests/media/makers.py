"""Test media, all made here: Pillow, pillow-heif, ffmpeg's lavfi sources and hand-built bytes.

The location used everywhere is Trafalgar Square, London: 51.5072 N, 0.1276 W.
"""

from __future__ import annotations

import hashlib
import io
import struct
import subprocess
import zipfile
import zlib
from pathlib import Path

from PIL import Image, ImageCms, ImageDraw
from PIL.PngImagePlugin import PngInfo

from memorybox.media import tools

LAT, LON = 51.5072, -0.1276
LOCATION_ISO6709 = "+51.5072-000.1276/"
TAKEN_EXIF = "2021:06:01 10:20:30"
# What must never survive: coordinates in any spelling, location tags, place names.
FORBIDDEN = (
    b"51.5072",
    b"51,30.43",
    b"0.1276",
    b"+51.5",
    b"ISO6709",
    b"\xa9xyz",
    b"GPSLatitude",
    b"GPSLongitude",
    b"exif:GPS",
    b"Trafalgar",
    b"London",
    b"photoshop:City",
)

XMP = (
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" '
    b'xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" '
    b'exif:GPSLatitude="51,30.432N" exif:GPSLongitude="0,7.656W" '
    b'photoshop:City="London" photoshop:Headline="Trafalgar Square"/>'
    b'</rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
)


# --- a small TIFF/EXIF writer (little-endian), so the EXIF is exactly what we say ----------


def _rational(value: float) -> tuple[int, int]:
    return round(value * 10000), 10000


def _dms(value: float) -> list[tuple[int, int]]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = (value - degrees - minutes / 60) * 3600
    return [(degrees, 1), (minutes, 1), _rational(seconds)]


Entry = tuple[int, int, object]  # tag, type, value


def _pack_ifd(entries: list[Entry], offset: int, next_ifd: int = 0) -> tuple[bytes, bytes]:
    """An IFD placed at ``offset``, and the out-of-line data placed right after it."""
    entries = sorted(entries)
    table_size = 2 + 12 * len(entries) + 4
    data = b""
    table = struct.pack("<H", len(entries))
    for tag, kind, value in entries:
        if kind == 2:  # ASCII
            raw = value.encode() + b"\x00" if isinstance(value, str) else bytes(value)
            count = len(raw)
        elif kind == 3:  # SHORT
            raw, count = struct.pack("<H", value), 1
        elif kind == 4:  # LONG
            raw, count = struct.pack("<I", value), 1
        elif kind == 5:  # RATIONAL
            pairs = value if isinstance(value, list) else [value]
            raw = b"".join(struct.pack("<II", *pair) for pair in pairs)
            count = len(pairs)
        elif kind in (1, 7):  # BYTE, UNDEFINED
            raw, count = bytes(value), len(value)
        else:
            raise ValueError(kind)
        if len(raw) <= 4:
            field = raw.ljust(4, b"\x00")
        else:
            field = struct.pack("<I", offset + table_size + len(data))
            data += raw + (b"\x00" if len(raw) % 2 else b"")
        table += struct.pack("<HHI", tag, kind, count) + field
    table += struct.pack("<I", next_ifd)
    return table, data


def gps_entries() -> list[Entry]:
    return [
        (0x0000, 1, b"\x02\x03\x00\x00"),
        (0x0001, 2, "N"),
        (0x0002, 5, _dms(LAT)),
        (0x0003, 2, "W"),
        (0x0004, 5, _dms(LON)),
    ]


def camera_exif(orientation: int, thumbnail: bytes | None = None) -> bytes:
    """A camera-like EXIF (TIFF bytes): make, model, dates, GPS, and optionally a thumbnail."""
    ifd0_offset = 8
    ifd0_entries: list[Entry] = [
        (0x010F, 2, "PhoneMaker"),
        (0x0110, 2, "Phone 12"),
        (0x0112, 3, orientation),
        (0x0132, 2, "2021:06:02 09:00:00"),
        (0x8769, 4, 0),  # Exif IFD, patched below
        (0x8825, 4, 0),  # GPS IFD, patched below
    ]
    # two passes: first to learn sizes, then with real offsets
    for _ in range(2):
        ifd0, ifd0_data = _pack_ifd(ifd0_entries, ifd0_offset, next_ifd=0)
        exif_offset = ifd0_offset + len(ifd0) + len(ifd0_data)
        exif_ifd, exif_data = _pack_ifd(
            [
                (0x9003, 2, TAKEN_EXIF),
                (0x9004, 2, TAKEN_EXIF),
                (0x9011, 2, "+01:00"),
            ],
            exif_offset,
        )
        gps_offset = exif_offset + len(exif_ifd) + len(exif_data)
        gps_ifd, gps_data = _pack_ifd(gps_entries(), gps_offset)
        ifd1_offset = gps_offset + len(gps_ifd) + len(gps_data)
        ifd0_entries = [e for e in ifd0_entries if e[0] not in (0x8769, 0x8825)] + [
            (0x8769, 4, exif_offset),
            (0x8825, 4, gps_offset),
        ]
    blocks = [ifd0, ifd0_data, exif_ifd, exif_data, gps_ifd, gps_data]
    if thumbnail is not None:
        ifd0, ifd0_data = _pack_ifd(ifd0_entries, ifd0_offset, next_ifd=ifd1_offset)
        blocks[:2] = [ifd0, ifd0_data]
        table_size = 2 + 12 * 3 + 4
        ifd1, ifd1_data = _pack_ifd(
            [
                (0x0103, 3, 6),
                (0x0201, 4, ifd1_offset + table_size),
                (0x0202, 4, len(thumbnail)),
            ],
            ifd1_offset,
        )
        blocks += [ifd1, ifd1_data, thumbnail]
    return b"II*\x00" + struct.pack("<I", ifd0_offset) + b"".join(blocks)


# --- JPEG -------------------------------------------------------------------------------


def picture(width: int, height: int) -> Image.Image:
    """A picture with detail (so decoded pixels mean something) and a red top-left corner."""
    image = Image.radial_gradient("L").resize((width, height)).convert("RGB")
    draw = ImageDraw.Draw(image)
    for x in range(0, width, 16):
        draw.line([(x, 0), (width - x, height)], fill=(40, 90, (x * 7) % 255), width=2)
    draw.rectangle([0, 0, width // 8, height // 8], fill=(255, 0, 0))
    return image


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def srgb_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def thumbnail_with_gps() -> bytes:
    """A small JPEG that itself carries GPS in its own EXIF (as camera thumbnails can)."""
    buf = io.BytesIO()
    picture(160, 120).save(buf, "JPEG", quality=70)
    plain = buf.getvalue()
    exif = b"Exif\x00\x00" + camera_exif(1)
    return plain[:2] + _segment(0xE1, exif) + plain[2:]


def camera_jpeg(width: int = 640, height: int = 480, orientation: int = 6) -> bytes:
    """Like a phone photo: EXIF with GPS and an EXIF thumbnail carrying GPS, XMP location,
    IPTC (Photoshop APP13) with a place name, a comment, an ICC profile, orientation 6."""
    buf = io.BytesIO()
    picture(width, height).save(buf, "JPEG", quality=90, icc_profile=srgb_profile())
    plain = buf.getvalue()
    exif = b"Exif\x00\x00" + camera_exif(orientation, thumbnail_with_gps())
    xmp = b"http://ns.adobe.com/xap/1.0/\x00" + XMP
    iptc_city = b"\x1c\x02\x5a" + struct.pack(">H", 6) + b"London"
    resource = b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(iptc_city))
    iptc = b"Photoshop 3.0\x00" + resource + iptc_city + (b"\x00" if len(iptc_city) % 2 else b"")
    comment = b"Taken at Trafalgar Square 51.5072 -0.1276"
    extra = (
        _segment(0xE1, exif) + _segment(0xE1, xmp) + _segment(0xED, iptc) + _segment(0xFE, comment)
    )
    return plain[:2] + extra + plain[2:]


def plain_jpeg(width: int = 64, height: int = 48) -> bytes:
    buf = io.BytesIO()
    picture(width, height).save(buf, "JPEG", quality=85)
    return buf.getvalue()


def jpeg_with_size(width: int, height: int) -> bytes:
    """A small JPEG whose frame header claims ``width`` x ``height``."""
    data = bytearray(plain_jpeg(16, 16))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def corrupt_jpeg() -> bytes:
    """A JPEG whose frame header is nonsense (a sampling factor of 0): it cannot be decoded."""
    data = bytearray(plain_jpeg(64, 48))
    sof = data.index(b"\xff\xc0")
    data[sof + 11] = 0x00
    return bytes(data)


# --- PNG, WebP, GIF, HEIC -------------------------------------------------------------


def _exif_for_pillow(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0112] = orientation
    exif.get_ifd(0x8769)[0x9003] = TAKEN_EXIF
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (51.0, 30.0, 25.92), "W", (0.0, 7.0, 39.36)
    return exif


def png_with_location(width: int = 96, height: int = 64) -> bytes:
    info = PngInfo()
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    info.add_text("Location", "Trafalgar Square, London 51.5072 -0.1276")
    buf = io.BytesIO()
    picture(width, height).save(buf, "PNG", pnginfo=info, exif=_exif_for_pillow(1))
    return buf.getvalue()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def corrupt_png() -> bytes:
    """A PNG whose compressed pixels are scrambled (with correct checksums): undecodable."""
    data = png_with_location(96, 64)
    start = data.index(b"IDAT") + 4
    length = struct.unpack(">I", data[start - 8 : start - 4])[0]
    body = bytearray(data[start : start + length])
    body[2:] = bytes(b ^ 0x5A for b in body[2:])
    crc = zlib.crc32(b"IDAT" + bytes(body)) & 0xFFFFFFFF
    return data[:start] + bytes(body) + struct.pack(">I", crc) + data[start + length + 4 :]


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny PNG claiming an enormous size: a decompression bomb."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024, 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def webp_with_location(width: int = 96, height: int = 64, lossless: bool = False) -> bytes:
    buf = io.BytesIO()
    picture(width, height).save(
        buf, "WEBP", exif=_exif_for_pillow(1), xmp=XMP, lossless=lossless, quality=90
    )
    return buf.getvalue()


def gif_with_location(width: int = 48, height: int = 32) -> bytes:
    frames = [picture(width, height), picture(width, height).rotate(180)]
    buf = io.BytesIO()
    frames[0].save(
        buf,
        "GIF",
        save_all=True,
        append_images=frames[1:],
        loop=0,
        duration=100,
        comment=b"Trafalgar Square 51.5072 -0.1276",
    )
    data = buf.getvalue()
    xmp_blocks = b"".join(
        bytes([len(XMP[i : i + 255])]) + XMP[i : i + 255] for i in range(0, len(XMP), 255)
    )
    xmp_extension = b"\x21\xff\x0bXMP DataXMP" + xmp_blocks + b"\x00"
    trailer = data.rindex(b";")
    return data[:trailer] + xmp_extension + data[trailer:]


def heic_with_location(width: int = 96, height: int = 64, orientation: int = 6) -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    buf = io.BytesIO()
    # as bytes, so pillow-heif also writes the HEIF rotation (irot), as phones do
    exif = _exif_for_pillow(orientation).tobytes()
    picture(width, height).save(buf, "HEIF", exif=exif, xmp=XMP)
    return buf.getvalue()


# --- PDF --------------------------------------------------------------------------------


def pdf(pages: int = 2) -> bytes:
    images = [Image.new("RGB", (200, 280), colour) for colour in ("white", "yellow", "blue")]
    buf = io.BytesIO()
    images[0].save(buf, "PDF", save_all=True, append_images=images[1:pages])
    return buf.getvalue()


def _rc4(key: bytes, data: bytes) -> bytes:
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) % 256
        s[i], s[j] = s[j], s[i]
    out, i, j = bytearray(), 0, 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + s[i]) % 256
        s[i], s[j] = s[j], s[i]
        out.append(byte ^ s[(s[i] + s[j]) % 256])
    return bytes(out)


_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def encrypted_pdf(open_without_password: bool) -> bytes:
    """A one-page PDF with the standard security handler (RC4, 40 bits).

    With ``open_without_password`` the user password is empty (only the owner's is set), so
    the file opens but is still encrypted; otherwise the user password is unknown."""
    file_id = b"0123456789abcdef"
    owner = hashlib.md5(b"owner-secret" + _PAD[:20], usedforsecurity=False).digest()[:16] * 2
    permissions = -44
    if open_without_password:
        key = hashlib.md5(
            _PAD + owner + struct.pack("<i", permissions) + file_id, usedforsecurity=False
        ).digest()[:5]
        user = _rc4(key, _PAD)
    else:
        user = bytes(range(32))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        b"<< /Filter /Standard /V 1 /R 2 /O <"
        + owner.hex().encode()
        + b"> /U <"
        + user.hex().encode()
        + b"> /P "
        + str(permissions).encode()
        + b" >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Encrypt 4 0 R "
        f"/ID [<{file_id.hex()}> <{file_id.hex()}>] >>\nstartxref\n{xref}\n%%EOF\n"
    ).encode()
    return out


# --- sound and video, made by ffmpeg --------------------------------------------------------


def ffmpeg(*args: str) -> None:
    command = [tools.binaries().ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
    subprocess.run([*command, *args], check=True, timeout=60)


def lavfi_video(size: str = "320x240", seconds: float = 1.0, rate: int = 10) -> list[str]:
    return ["-f", "lavfi", "-i", f"testsrc=size={size}:rate={rate}:duration={seconds}"]


def lavfi_sound(seconds: float = 1.0) -> list[str]:
    return ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=44100:duration={seconds}"]


def video_with_location(folder: Path, name: str, fmt: str, apple_keys: bool) -> Path:
    """A phone-like video: location (ISO 6709 in ``©xyz`` or Apple's keys), creation time,
    a timecode data track and a 90-degree rotation."""
    plain = folder / f"{name}-plain.mp4"
    ffmpeg(
        *lavfi_video(),
        *lavfi_sound(),
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-c:a",
        "aac",
        "-shortest",
        str(plain),
    )
    out = folder / f"{name}.{fmt}"
    tags = [
        "-metadata",
        f"location={LOCATION_ISO6709}",
        "-metadata",
        "location-eng=" + LOCATION_ISO6709,
    ]
    if apple_keys:
        tags += [
            "-movflags",
            "use_metadata_tags",
            "-metadata",
            "com.apple.quicktime.location.ISO6709=+51.5072-000.1276+010.000/",
            "-metadata",
            "com.apple.quicktime.creationdate=2021-06-01T10:20:30+0100",
        ]
    ffmpeg(
        "-i",
        str(plain),
        "-map",
        "0",
        "-c",
        "copy",
        "-metadata:s:v:0",
        "rotate=90",  # a quarter turn, as phones held upright record
        "-metadata",
        "creation_time=2021-06-01T09:20:30Z",
        "-metadata:s:v:0",
        "title=Trafalgar Square",
        "-timecode",
        "10:20:30:00",
        *tags,
        "-f",
        fmt,
        str(out),
    )
    return out


def zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("payload.html", "<html><script>alert(1)</script></html>")
    return buf.getvalue()


def avi_with_hls_playlist(canary: Path) -> bytes:
    """Like the known exploit: an AVI whose first chunk is an HLS playlist reading a local file."""
    playlist = (
        "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:10.0,\n"
        f"concat:file://{canary}|file://{canary}\n#EXTINF:10.0,\nfile://{canary}\n"
        "#EXT-X-ENDLIST\n"
    ).encode()
    chunk = b"00dc" + struct.pack("<I", len(playlist)) + playlist
    body = b"AVI " + b"LIST" + struct.pack("<I", len(chunk) + 4) + b"movi" + chunk
    return b"RIFF" + struct.pack("<I", len(body)) + body


def hls_playlist(canary: Path) -> bytes:
    return (
        f"#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:1.0,\nfile://{canary}\n#EXT-X-ENDLIST\n"
    ).encode()
