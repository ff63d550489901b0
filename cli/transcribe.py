"""`asr transcribe FILE...`: transcripts of audio files, computed in-process with the embedded model."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cli.lm import add_decoding_arguments, decoding_settings

EPILOG = """examples:
  asr transcribe speech.wav                       # with the bundled demo model (and its LM)
  asr transcribe speech.wav --no-lm               # greedy decoding (no language model)
  asr transcribe a.flac b.mp3 --model exports/wav2vec2
  asr transcribe *.wav --json > transcripts.jsonl
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "transcribe",
        help="transcribe audio files with a SavedModel, no server needed",
        description="Decode (WAV, FLAC, OGG, MP3; any rate and channels), resample to 16 kHz, transcribe.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument("--model", type=Path, help="SavedModel dir (NAME/ or NAME/VERSION/); default: bundled")
    parser.add_argument("--max-duration-s", type=float, help="refuse longer files (default: ASR_MAX_DURATION_H hours)")
    parser.add_argument("--json", action="store_true", help="one JSON object per file instead of plain text")
    add_decoding_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import asyncio

    from service.core.config import Settings

    settings = Settings(**{"model_path": args.model} if args.model else {}, **decoding_settings(args))
    max_duration_s = args.max_duration_s or settings.max_duration_s
    return asyncio.run(transcribe_files(settings, args.files, max_duration_s, args.json))


async def transcribe_files(settings, files: list[Path], max_duration_s: float, as_json: bool) -> int:
    """Transcribe `files` with the gateway's own embedded backend (same chunking, decoders and transcripts)."""
    from service.audio import decode_audio
    from service.backends.embedded import EmbeddedBackend
    from service.core.errors import ServiceError
    from wav2vec2.errors import AudioError

    backend = EmbeddedBackend(settings)
    try:
        await backend.start()
    except ServiceError as error:
        print(f"asr transcribe: {error.message}", file=sys.stderr)
        return 2
    failures = 0
    try:
        for path in files:
            try:
                with path.open("rb") as file:
                    audio = decode_audio(file, max_duration_s)
            except (OSError, ServiceError, AudioError) as error:
                print(f"asr transcribe: {path}: {getattr(error, 'message', error)}", file=sys.stderr)
                failures += 1
                continue
            transcript = await backend.transcribe(audio.samples)
            if as_json:
                print(json.dumps({"file": str(path), "text": transcript.text, "duration_s": round(audio.duration_s, 4),
                                  "decoder": transcript.decoder}))  # fmt: skip
            elif len(files) > 1:
                print(f"{path}\t{transcript.text}")
            else:
                print(transcript.text)
    finally:
        await backend.close()
    return 1 if failures else 0
