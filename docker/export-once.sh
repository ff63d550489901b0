#!/usr/bin/env bash
# Exports a model into the TF Serving model directory unless that version is already there.
#
# compose.yaml runs it as the one-shot `export` service and k8s/ as the TF Serving pod's init container, so a
# fresh clone or a fresh pod serves something without a manual step. It writes into a staging directory next
# to the model directory and renames the finished version into place: TF Serving polls base_path every second
# and must never see a half-written version.
#
# Environment (all optional):
#   ASR_EXPORT_MODEL    what to export: "default" (the bundled demo model) or an HF hub id / checkpoint path,
#                       e.g. facebook/wav2vec2-base-960h (needs network access to the hub)   [default]
#                       "default" copies the SavedModel the installed `service` package ships
#                       (service/bundled_model/demo/<version>/, what `asr serve` with no flags loads):
#                       it is already exported, and `asr export` reads checkpoints, not SavedModels.
#   ASR_EXPORT_DIR      the directory mounted at TF Serving's /models                          [/models]
#   ASR_MODEL_NAME      model name; must match models.config                                 [wav2vec2]
#   ASR_EXPORT_VERSION  version number to write; export a higher one to swap models live            [1]
#   ASR_CLI             how to call the CLI                                                        [asr]
#   ASR_PYTHON          the Python that has the project installed (finds the bundled model)     [python]
set -euo pipefail

model="${ASR_EXPORT_MODEL:-default}"
out_dir="${ASR_EXPORT_DIR:-/models}"
name="${ASR_MODEL_NAME:-wav2vec2}"
version="${ASR_EXPORT_VERSION:-1}"
read -r -a cli <<<"${ASR_CLI:-asr}"
read -r -a python <<<"${ASR_PYTHON:-python}"

if ! [[ "$version" =~ ^[1-9][0-9]*$ ]]; then
    echo "export-once: ASR_EXPORT_VERSION must be a positive integer, got '${version}'" >&2
    exit 2
fi

target="${out_dir}/${name}/${version}"
if [[ -f "${target}/saved_model.pb" ]]; then
    echo "export-once: ${target} already exists; nothing to do"
    exit 0
fi

# Staging lives outside base_path (${out_dir}/${name}) so TF Serving never looks at it, but on the same
# filesystem so the final mv is an atomic rename.
mkdir -p "$out_dir"
staging="$(mktemp -d "${out_dir}/.export-staging.XXXXXX")"
trap 'rm -rf "$staging"' EXIT

if [[ "$model" == "default" ]]; then
    # The gateway's own rule for "no model given" (ASR_MODEL_PATH, else the bundled model; highest version).
    bundled="$("${python[@]}" -c 'import sys
from service.config import Settings
from model_export.errors import ExportError
from model_export.contract import resolve_version_dir
try:
    print(resolve_version_dir(Settings().model.path).path)
except ExportError as error:
    sys.exit(f"export-once: no bundled model to copy: {error}")')"
    echo "export-once: copying the bundled model ${bundled} as ${name} version ${version} into ${out_dir}"
    mkdir -p "${staging}/${name}"
    cp -R "$bundled" "${staging}/${name}/${version}"
else
    echo "export-once: exporting ${model} as ${name} version ${version} into ${out_dir}"
    "${cli[@]}" export --model "$model" --out "$staging" --name "$name" --version "$version"
fi

if [[ ! -f "${staging}/${name}/${version}/saved_model.pb" ]]; then
    echo "export-once: the export of ${model} finished but wrote no ${name}/${version}/saved_model.pb" >&2
    exit 1
fi
mkdir -p "${out_dir}/${name}"
mv "${staging}/${name}/${version}" "$target"
echo "export-once: ${target} ready"
