"""`asr export`: writes a TF Serving SavedModel (`DIR/NAME/VERSION/`) with pre- and post-processing in the graph."""

from __future__ import annotations

import argparse
import logging

from cli.errors import EXIT_FAILED, input_errors

logger = logging.getLogger(__name__)

EXAMPLES = """examples:
  asr export --model facebook/wav2vec2-base-960h --out models --name asr --version 1 --verify
  asr export --model runs/finetune/checkpoint-best --out models --name asr --version 2
  asr export --model demo_model/checkpoint --out models --name asr --version 3 --precision bfloat16 --verify
  asr export --model demo_model/checkpoint --out models --name asr --version 4 --precision int8 --verify
  docker run -p 8500:8500 -v $PWD/models/asr:/models/asr -e MODEL_NAME=asr tensorflow/serving
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="export a SavedModel for TensorFlow Serving",
        description="Export a wav2vec 2.0 CTC checkpoint as a SavedModel with the signatures serving_default "
        "(audio -> transcript), transcribe_wav (WAV bytes -> transcript) and logits; see model_export/README.md.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", required=True, help="HF checkpoint directory, hub id, or save_pretrained dir")
    parser.add_argument("--out", required=True, help="model base directory (TF Serving's base_path parent)")
    parser.add_argument("--name", required=True, help="model name: the directory under --out and model_spec.name")
    parser.add_argument("--version", required=True, type=int, help="version number (a new directory, >= 1)")
    parser.add_argument(
        "--precision",
        choices=("float32", "bfloat16", "int8"),  # model_export.precision.PRECISIONS (importing it loads TensorFlow)
        default="float32",
        help="compute precision (default float32); bfloat16 pays only on CPUs with AVX512-BF16/AMX or on GPUs; "
        "int8 adds model.tflite (int8 weights), which the gateway and TF Serving's --prefer_tflite_model run "
        "several times faster on CPUs (model_export/README.md)",
    )
    parser.add_argument(
        "--verify",
        action="store_true",
        help="reload the export and check it against the float32 Python model (bfloat16, int8: looser "
        "tolerance, and the share of frames whose greedy token agrees is reported)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from model_export.errors import ExportError, VerificationError
    from model_export.export import export_saved_model, load_source
    from model_export.verify import verify_export

    with input_errors(ExportError):  # a bad checkpoint, an unwritable target, an existing version
        model, processor = load_source(args.model)
        export_dir = export_saved_model(model, processor, args.out, args.name, args.version, args.precision)
    if args.verify:
        try:
            report = verify_export(export_dir, model, processor, precision=args.precision)
        except VerificationError as error:  # the export disagrees with the model: our failure, not the input's
            logger.error("%s", error)
            return EXIT_FAILED
        logger.info(
            "verification passed (%s): %d utterances, max relative logit difference %.1e, argmax agreement %.3f, "
            "%d warmup records run",
            report.precision, report.num_utterances, report.max_relative_logit_diff, report.argmax_agreement,
            report.num_warmup_records,
        )  # fmt: skip
    logger.info("SavedModel ready at %s", export_dir)
    return 0
