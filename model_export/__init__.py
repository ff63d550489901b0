"""SavedModel export for TensorFlow Serving: pre-processing, the model and greedy CTC decoding in one graph.

from model_export import export_saved_model, load_source, verify_export
model, processor = load_source("facebook/wav2vec2-base-960h")
path = export_saved_model(model, processor, "models", "asr", 1)
verify_export(path, model, processor)
"""

from model_export.errors import ExportError, VerificationError
from model_export.export import export_saved_model, load_source, version_dir
from model_export.export_module import ServingModule
from model_export.verify import VerificationReport, verify_export

__all__ = [
    "ExportError",
    "ServingModule",
    "VerificationError",
    "VerificationReport",
    "export_saved_model",
    "load_source",
    "verify_export",
    "version_dir",
]
