// The page at /: upload or record audio and show the transcript as timed segments, download subtitles, or stream
// the microphone live. It speaks the public APIs like any other client: POST v1/audio/transcriptions for files,
// WS v1/stream (docs/streaming.md) for live mode.
"use strict";

const $ = (id) => document.getElementById(id);
const keyInput = $("api-key");
const statusLine = $("status");
const player = $("player");
const transcriptBox = $("transcript");
const downloads = $("downloads");
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

// A refused key is the user's to fix in the key box, not an API detail.
function keyProblem() {
  keyInput.focus();
  return keyInput.value.trim()
    ? "the API key in the box above was not accepted. Check it and try again."
    : "this server asks for an API key. Type it in the API key box above and try again.";
}

async function errorMessage(response) {
  if (response.status === 401) return keyProblem();
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
  if (!response.ok) throw new Error(await errorMessage(response));
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
  if (!response.ok) throw new Error(await errorMessage(response));
  return responseFormat.endsWith("json") ? response.json() : response.text();
}

function clockTime(seconds) {
  const whole = Math.floor(seconds);
  const hours = Math.floor(whole / 3600);
  const minutes = String(Math.floor(whole / 60) % 60);
  const secs = String(whole % 60).padStart(2, "0");
  return hours ? `${hours}:${minutes.padStart(2, "0")}:${secs}` : `${minutes}:${secs}`;
}

function seek(seconds) {
  player.currentTime = seconds;
  player.play().catch(() => {});
}

// One paragraph per segment, led by its start time; `seekable` when there is audio to jump in (not live).
function segmentParagraph(startS, seekable) {
  const paragraph = document.createElement("p");
  paragraph.className = "segment";
  paragraph.dataset.start = startS;
  const time = document.createElement(seekable ? "button" : "span");
  time.className = "time";
  time.textContent = clockTime(startS);
  if (seekable) {
    time.type = "button";
    time.title = "Play from here";
    time.addEventListener("click", () => seek(startS));
  }
  paragraph.append(time, " ");
  return paragraph;
}

function wordSpan(text, startS, endS, seekable) {
  const span = document.createElement("span");
  span.className = "word";
  span.textContent = text;
  span.dataset.start = startS;
  span.dataset.end = endS;
  span.title = `${startS.toFixed(2)} – ${endS.toFixed(2)} s`;
  if (seekable) span.addEventListener("click", () => seek(startS));
  return span;
}

function showTranscript(result) {
  transcriptBox.replaceChildren();
  wordSpans = [];
  // Segments hold the words in order; a word belongs to the last segment that starts at or before it.
  const segments = result.segments.length ? result.segments : [{ start: 0 }];
  let index = -1;
  let paragraph = null;
  for (const word of result.words) {
    while (index + 1 < segments.length && (index < 0 || word.start >= segments[index + 1].start)) {
      index += 1;
      paragraph = segmentParagraph(segments[index].start, true);
      transcriptBox.append(paragraph);
    }
    const span = wordSpan(word.word, word.start, word.end, true);
    paragraph.append(span, " ");
    wordSpans.push(span);
  }
  transcriptBox.dataset.text = result.text;
  player.hidden = downloads.hidden = false;
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
    const segments = result.segments.length;
    setStatus(`${name}: ${result.duration.toFixed(1)} s, ${segments} segment${segments === 1 ? "" : "s"}, ${result.words.length} words.`);
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

// One way in at a time: while the microphone records or streams, the other buttons and the file chooser wait.
function lockInputs(owner) {
  for (const control of [recordButton, liveButton, $("file")]) control.disabled = owner !== null && control !== owner;
  drop.classList.toggle("locked", owner !== null);
}

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
  if ($("file").disabled) return;
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

// Returns the microphone's stream, or null after telling the user, in plain words, why there is none.
async function openMicrophone(constraints) {
  if (!navigator.mediaDevices) {
    // Browsers offer the microphone only to pages on https or on this computer (localhost).
    setStatus("The microphone can only be used when this page is opened over https or on localhost.", true);
    return null;
  }
  try {
    return await navigator.mediaDevices.getUserMedia(constraints);
  } catch (error) {
    const refused = error.name === "NotAllowedError";
    setStatus(refused ? "The browser was not allowed to use the microphone." : `No microphone: ${error.message}`, true);
    return null;
  }
}

let recorder = null;
const recordButton = $("record");
recordButton.addEventListener("click", async () => {
  if (recorder) {
    recorder.stop();
    return;
  }
  const stream = await openMicrophone({ audio: true });
  if (!stream) return;
  const chunks = [];
  recorder = new MediaRecorder(stream);
  recorder.addEventListener("dataavailable", (event) => chunks.push(event.data));
  recorder.addEventListener("stop", async () => {
    stream.getTracks().forEach((track) => track.stop());
    recorder = null;
    recordButton.textContent = "Record";
    recordButton.classList.remove("recording");
    lockInputs(null);
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
  lockInputs(recordButton);
  setStatus("Recording… press Stop when done.");
});

// Live mode: the microphone streams through WS v1/stream as 32-bit float mono PCM at the audio context's own
// rate (the server resamples). Partials show greyed as they arrive; each segment's final replaces its partial.
const liveButton = $("live");
let live = null; // {socket, stream, context, finals: [text], error} while a live session runs

function liveSocketUrl() {
  const url = new URL("v1/stream", location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url;
}

function showLiveEvent(event) {
  const partial = transcriptBox.querySelector(".segment.partial");
  if (event.type === "partial") {
    const paragraph = segmentParagraph(event.start_s, false);
    paragraph.classList.add("partial");
    paragraph.dataset.segmentId = event.segment_id;
    paragraph.append(event.text);
    if (partial) partial.replaceWith(paragraph);
    else transcriptBox.append(paragraph);
  } else if (event.type === "final") {
    const paragraph = segmentParagraph(event.start_s, false);
    for (const word of event.words) paragraph.append(wordSpan(word.text, word.start_s, word.end_s, false), " ");
    if (partial && Number(partial.dataset.segmentId) === event.segment_id) partial.replaceWith(paragraph);
    else transcriptBox.insertBefore(paragraph, partial);
    if (event.text) live.finals.push(event.text);
  } else if (event.type === "error") {
    live.error = event.error;
  }
}

function endLive(closeEvent) {
  const session = live;
  live = null;
  session.stream.getTracks().forEach((track) => track.stop());
  session.context.close();
  liveButton.textContent = "Live";
  liveButton.classList.remove("recording");
  lockInputs(null);
  transcriptBox.querySelectorAll(".segment.partial").forEach((paragraph) => paragraph.remove());
  transcriptBox.dataset.text = session.finals.join(" ");
  if (closeEvent.code === 1000) {
    setStatus(`Live transcript: ${session.finals.length} segment${session.finals.length === 1 ? "" : "s"}.`);
  } else if (closeEvent.code === 4401) {
    setStatus(`Could not stream: ${keyProblem()}`, true);
  } else {
    const reason = session.error ? session.error.message : closeEvent.reason || "the connection was lost";
    setStatus(`Live transcription stopped: ${reason}`, true);
  }
}

async function startLive() {
  // The model wants the voice as it is: no echo cancelling, noise gating or gain riding.
  const raw = { echoCancellation: false, noiseSuppression: false, autoGainControl: false, channelCount: 1 };
  const stream = await openMicrophone({ audio: raw });
  if (!stream) return;
  const context = new AudioContext();
  let capture;
  try {
    await context.audioWorklet.addModule("static/capture-worklet.js");
    capture = new AudioWorkletNode(context, "capture");
  } catch (error) {
    stream.getTracks().forEach((track) => track.stop());
    context.close();
    setStatus(`This browser cannot stream the microphone: ${error.message}`, true);
    return;
  }
  // Connected to the speakers (it outputs silence) so the browser keeps pulling audio through it.
  context.createMediaStreamSource(stream).connect(capture).connect(context.destination);

  const socket = new WebSocket(liveSocketUrl());
  live = { socket, stream, context, finals: [], error: null };
  const early = []; // audio captured while the socket opens: the first words are not lost
  capture.port.onmessage = (message) => {
    if (socket.readyState === WebSocket.OPEN) socket.send(message.data);
    else if (socket.readyState === WebSocket.CONNECTING) early.push(message.data);
  };
  socket.addEventListener("open", () => {
    const config = { type: "config", sample_rate_hz: context.sampleRate, encoding: "f32le", channels: 1 };
    const key = keyInput.value.trim();
    if (key) config.api_key = key;
    socket.send(JSON.stringify(config));
    early.splice(0).forEach((block) => socket.send(block));
  });
  socket.addEventListener("message", (message) => showLiveEvent(JSON.parse(message.data)));
  socket.addEventListener("close", endLive);

  transcriptBox.replaceChildren();
  delete transcriptBox.dataset.text;
  wordSpans = [];
  player.hidden = downloads.hidden = true; // nothing to play back or download: the audio was not kept
  $("result").hidden = false;
  liveButton.textContent = "Stop live";
  liveButton.classList.add("recording");
  lockInputs(liveButton);
  setStatus("Listening… words appear as you speak; press Stop live when done.");
}

function stopLive() {
  live.stream.getTracks().forEach((track) => track.stop());
  if (live.socket.readyState === WebSocket.OPEN) live.socket.send(JSON.stringify({ type: "end" }));
  else live.socket.close();
  setStatus("Finishing the last words…");
}

liveButton.addEventListener("click", () => (live ? stopLive() : startLive()));
