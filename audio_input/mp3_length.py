"""Tells whether an MP3 file states its exact length, which decides whether a short decode means truncation.

libsndfile decodes MP3 with mpg123, whose length is exact only when the first frame is a Xing/Info (LAME) or
VBRI tag counting the frames; otherwise it is an estimate from the file size and the first frame's bitrate.
The estimate is off by the padding byte the encoder adds to some frames: sox and LAME at 44.1 or 22.05 kHz
give files that decode to 0.47 % fewer frames than "promised" ("the header promises 71586 frames, 71424 are
present"), complete as they are. Without a tag an MP3 is a plain sequence of frames, and a cut file is a
shorter valid one: its truncation cannot be seen, only a tag's count can betray it.

The tag also decides where the audio starts. Every MP3 decodes late by the encoder's delay (LAME: 576 samples)
plus the decoder's (mpg123's synthesis filter bank: 529), and ends on padding up to a whole frame. A LAME tag
states the delay and padding, and libsndfile's mpg123 drops both ("gapless" decoding: the file decodes to its
source's exact length, samples aligned). Without a tag mpg123 drops nothing: word times would come 1105 samples
late (69 ms at 16 kHz), so `audio_input.decode` drops LAME's delay itself (`UNTAGGED_MP3_DELAY_FRAMES`). LAME skips
its tag when it does not fit the first frame (its default 24 and 32 kbit/s CBR at 16 and 22.05 kHz); sox writes
through LAME's library without one: these are the untagged files users make.
"""

from __future__ import annotations

from typing import BinaryIO

_ID3V2_HEADER_BYTES = 10
_ID3V2_FOOTER_FLAG = 0x10
# The tag sits after the 4-byte frame header and the side information: 4 + 32 bytes at most (MPEG-1 stereo),
# VBRI at exactly 4 + 32. A frame is at least 48 bytes, so the tag's name is in the first 48.
_TAG_SEARCH_BYTES = 48
_LENGTH_TAGS = (b"Xing", b"Info", b"VBRI")
# Encoders may put padding or a second (ID3 / APE) header before the first frame; look this far for a sync word.
_SYNC_SEARCH_BYTES = 4096
# LAME's encoder delay (ENCDELAY, 576) plus mpg123's decoder delay (529, as a tagged file's trimmed start shows).
UNTAGGED_MP3_DELAY_FRAMES = 576 + 529


def _id3v2_size(header: bytes) -> int:
    """Returns the bytes an ID3v2 tag at the start of `header` takes (0 without one); its size is syncsafe."""
    if len(header) < _ID3V2_HEADER_BYTES or header[:3] != b"ID3":
        return 0
    size = 0
    for byte in header[6:10]:
        size = (size << 7) | (byte & 0x7F)
    footer = _ID3V2_HEADER_BYTES if header[5] & _ID3V2_FOOTER_FLAG else 0
    return _ID3V2_HEADER_BYTES + size + footer


def mp3_length_tag(file: BinaryIO) -> bytes | None:
    """Returns the Xing/Info/VBRI tag the MP3 in `file` opens with (b"Info", ...), or None; the position is kept."""
    start = file.tell()
    try:
        head = file.read(_ID3V2_HEADER_BYTES)
        file.seek(start + _id3v2_size(head))
        data = file.read(_SYNC_SEARCH_BYTES)
    finally:
        file.seek(start)
    for offset in range(len(data) - 1):
        if data[offset] == 0xFF and data[offset + 1] & 0xE0 == 0xE0:  # the 11-bit frame sync
            first_frame = data[offset : offset + _TAG_SEARCH_BYTES]
            return next((tag for tag in _LENGTH_TAGS if tag in first_frame), None)
    return None
