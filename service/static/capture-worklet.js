// Runs on the audio thread: hands the page the microphone's samples, averaged to mono, in ~100 ms blocks at the
// audio context's rate (one WebSocket frame each: fewer, larger frames than the 128-sample render quanta).
"use strict";

class CaptureProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.blockLength = Math.round(sampleRate / 10);
    this.block = new Float32Array(this.blockLength);
    this.filled = 0;
  }

  process(inputs) {
    const channels = inputs[0];
    if (channels.length === 0) return true;
    for (let i = 0; i < channels[0].length; i++) {
      let sum = 0;
      for (const channel of channels) sum += channel[i];
      this.block[this.filled++] = sum / channels.length;
      if (this.filled === this.blockLength) {
        this.port.postMessage(this.block, [this.block.buffer]); // handed over, not copied: a fresh block follows
        this.block = new Float32Array(this.blockLength);
        this.filled = 0;
      }
    }
    return true;
  }
}

registerProcessor("capture", CaptureProcessor);
