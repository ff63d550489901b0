"""The warmup file: parses as TF Serving's PredictionLog records, and each record runs on the SavedModel."""

from __future__ import annotations

from model_export.warmup import MAX_WARMUP_RECORDS, WARMUP_DIR, WARMUP_FILENAME, read_warmup_file, request_inputs


def test_warmup_file_parses_as_prediction_logs_for_every_signature(exported_group) -> None:
    records = read_warmup_file(exported_group.path / WARMUP_DIR / WARMUP_FILENAME)
    assert 0 < len(records) <= MAX_WARMUP_RECORDS
    assert all(record.WhichOneof("log_type") == "predict_log" for record in records)
    requests = [record.predict_log.request for record in records]
    assert {r.model_spec.name for r in requests} == {"tiny-group"}
    assert {r.model_spec.signature_name for r in requests} == {"serving_default", "transcribe_wav", "logits"}
    assert {len(r.inputs["audio"].tensor_shape.dim) for r in requests if "audio" in r.inputs} == {2}


def test_every_warmup_record_runs_and_transcribes(exported_group) -> None:
    for record in read_warmup_file(exported_group.path / WARMUP_DIR / WARMUP_FILENAME):
        signature, inputs = request_inputs(record)
        outputs = exported_group.signature(signature)(**inputs)
        batch_size = next(iter(inputs.values())).shape[0]
        key = "logits" if signature == "logits" else "transcript"
        assert outputs[key].shape[0] == batch_size
