// The page at /: upload or record audio, show the transcript with word timings, download subtitles.
// It speaks the public OpenAI-compatible API (POST v1/audio/transcriptions) like any other client.
"use strict";

const $ = (id) => document.getElementById(id);
const keyInput = $("api-key");
const statusLine = $("status");
const player = $("player");
const transcriptBox = $("transcript");
let currentAudio = null; // {blob, name}: what the subtitle downloads transcribe again
let wordSpans = [];

keyInput.value = localStorage.getItem("asr-api-key") || "";
keyInput.addEventListener("change", () => localStorage.setItem("asr-api-key", keyInput.value.trim()));

function setStatus(text, isError = false) {
  statusLine.textContent = text;
  statusLine.classList.toggle("error", isError);
}

function authHeaders() {
  const key = keyInput.value.trim();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

async function errorMessage(response) {
  try {
    const body = await response.json();
    return body.error ? body.error.message : response.statusText;
  } catch (_) {
    return response.statusText;
  }
}

let modelId = null;
async function servedModel() {
  if (modelId) return modelId;
  const response = await fetch("v1/models", { headers: authHeaders() });
  if (!response.ok) throw new Error(`${response.status}: ${await errorMessage(response)}`);
  modelId = (await response.json()).data[0].id;
  return modelId;
}

async function transcribe(blob, name, responseFormat) {
  const form = new FormData();
  form.append("file", blob, name);
  form.append("model", await servedModel());
  form.append("response_format", responseFormat);
  if (responseFormat === "verbose_json") {
    form.append("timestamp_granularities[]", "word");
    form.append("timestamp_granularities[]", "segment");
  }
  const response = await fetch("v1/audio/transcriptions", { method: "POST", body: form, headers: authHeaders() });
  if (!response.ok) throw new Error(`${response.status}: ${await errorMessage(response)}`);
  return responseFormat.endsWith("json") ? response.json() : response.text();
}

function showTranscript(result) {
  transcriptBox.replaceChildren();
  wordSpans = result.words.map((word) => {
    const span = document.createElement("span");
    span.className = "word";
    span.textContent = word.word;
    span.dataset.start = word.start;
    span.dataset.end = word.end;
    span.title = `${word.start.toFixed(2)} – ${word.end.toFixed(2)} s`;
    span.addEventListener("click", () => {
      player.currentTime = word.start;
      player.play().catch(() => {});
    });
    transcriptBox.append(span, " ");
    return span;
  });
  transcriptBox.dataset.text = result.text;
  $("result").hidden = false;
}

player.addEventListener("timeupdate", () => {
  const t = player.currentTime;
  for (const span of wordSpans) {
    span.classList.toggle("current", t >= Number(span.dataset.start) && t < Number(span.dataset.end));
  }
});

async function handleAudio(blob, name) {
  currentAudio = { blob, name };
  player.src = URL.createObjectURL(blob);
  setStatus(`Transcribing ${name}…`);
  try {
    const result = await transcribe(blob, name, "verbose_json");
    showTranscript(result);
    setStatus(`${name}: ${result.duration.toFixed(1)} s, ${result.words.length} words.`);
  } catch (error) {
    setStatus(`Could not transcribe ${name}: ${error.message}`, true);
  }
}

async function download(format) {
  if (!currentAudio) return;
  try {
    const text = await transcribe(currentAudio.blob, currentAudio.name, format);
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
    link.download = currentAudio.name.replace(/\.[^.]*$/, "") + "." + format;
    link.click();
  } catch (error) {
    setStatus(`Could not make the ${format.toUpperCase()} file: ${error.message}`, true);
  }
}
$("download-srt").addEventListener("click", () => download("srt"));
$("download-vtt").addEventListener("click", () => download("vtt"));

$("file").addEventListener("change", (event) => {
  const file = event.target.files[0];
  if (file) handleAudio(file, file.name);
});

const drop = $("drop");
drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (event) => {
  event.preventDefault();
  drop.classList.remove("over");
  const file = event.dataTransfer.files[0];
  if (file) handleAudio(file, file.name);
});

// Browsers record WebM/Opus, a container libsndfile does not read: the page decodes the recording itself and
// sends 16-bit mono WAV, which every server-side decoder takes.
function encodeWav(samples, sampleRate) {
  const buffer = new ArrayBuffer(44 + samples.length * 2);
  const view = new DataView(buffer);
  const writeString = (offset, text) => { for (let i = 0; i < text.length; i++) view.setUint8(offset + i, text.charCodeAt(i)); };
  writeString(0, "RIFF");
  view.setUint32(4, 36 + samples.length * 2, true);
  writeString(8, "WAVE");
  writeString(12, "fmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  writeString(36, "data");
  view.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i]));
    view.setInt16(44 + i * 2, s < 0 ? s * 0x8000 : s * 0x7fff, true);
  }
  return new Blob([buffer], { type: "audio/wav" });
}

async function recordingToWav(recorded) {
  const context = new AudioContext();
  try {
    const audio = await context.decodeAudioData(await recorded.arrayBuffer());
    const mono = new Float32Array(audio.length);
    for (let channel = 0; channel < audio.numberOfChannels; channel++) {
      const data = audio.getChannelData(channel);
      for (let i = 0; i < data.length; i++) mono[i] += data[i] / audio.numberOfChannels;
    }
    return encodeWav(mono, audio.sampleRate);
  } finally {
    context.close();
  }
}

let recorder = null;
const recordButton = $("record");
recordButton.addEventListener("click", async () => {
  if (recorder) {
    recorder.stop();
    return;
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (error) {
    setStatus(`No microphone: ${error.message}`, true);
    return;
  }
  const chunks = [];
  recorder = new MediaRecorder(stream);
  recorder.addEventListener("dataavailable", (event) => chunks.push(event.data));
  recorder.addEventListener("stop", async () => {
    stream.getTracks().forEach((track) => track.stop());
    recorder = null;
    recordButton.textContent = "Record";
    recordButton.classList.remove("recording");
    try {
      const wav = await recordingToWav(new Blob(chunks, { type: chunks[0] ? chunks[0].type : "audio/webm" }));
      await handleAudio(wav, "recording.wav");
    } catch (error) {
      setStatus(`Could not read the recording: ${error.message}`, true);
    }
  });
  recorder.start();
  recordButton.textContent = "Stop";
  recordButton.classList.add("recording");
  setStatus("Recording… press Stop when done.");
});
