"""SavedModel export for TensorFlow Serving: pre-processing, the model and greedy CTC decoding in one graph.

from model_export import export_saved_model, load_source, verify_export
model, processor = load_source("facebook/wav2vec2-base-960h")
path = export_saved_model(model, processor, "models", "asr", 1)
verify_export(path, model, processor)

The names below load their module on first use (PEP 562), as in `wav2vec2`: `model_export.contract` and
`model_export.errors` (what the gateway and docker/export-once.sh read) do not import TensorFlow.
"""

from __future__ import annotations

from wav2vec2.lazy_exports import lazy_exports

# Public name → the module that defines it.
_EXPORTS = {
    "ExportError": "model_export.errors",
    "VerificationError": "model_export.errors",
    "export_saved_model": "model_export.export",
    "load_source": "model_export.export",
    "version_dir": "model_export.export",
    "ServingModule": "model_export.export_module",
    "VerificationReport": "model_export.verify",
    "verify_export": "model_export.verify",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
