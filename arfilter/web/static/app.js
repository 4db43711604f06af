// The live page of `arfilter serve`: the browser's camera in, the server's composited frames out.
//
// One frame is in flight at a time: a camera frame is sent as a JPEG only once the result of
// the previous one has arrived, so the page never builds a backlog and the frame rate follows
// what the server and the network manage. Results are binary messages: a 4-byte big-endian
// header length, a JSON header (faces, labels, probabilities) and the composited JPEG, drawn
// as it is onto the canvas (the screenshot saves exactly that canvas).
"use strict";

const CAPTURE_MAX_WIDTH = 640;     // larger cameras are scaled down before sending
const JPEG_QUALITY = 0.8;
const RESULT_TIMEOUT_MS = 3000;    // a frame without an answer by then is given up on
const RECONNECT_MAX_S = 10;

const $ = (id) => document.getElementById(id);
const view = $("view");
const viewContext = view.getContext("2d");
const video = $("camera");
const capture = document.createElement("canvas");
const captureContext = capture.getContext("2d");

// Read by the browser test and handy in the console: what the page has seen so far.
const live = window.arfilter = {state: "starting", frames: 0, lastResult: null, errors: [], rttMs: []};

let socket = null;
let cameraReady = false;
let inFlightSince = 0;
let reconnectDelayS = 1;
let reconnectTimer = 0;
let busyUntil = 0;
const shownAt = [];

// ------------------------------------------------------------------ states and messages

function setState(state, statusText, noticeText = "", canRetry = false) {
  live.state = state;
  document.body.dataset.state = state;
  $("status").textContent = statusText;
  $("notice").hidden = !noticeText;
  $("notice-text").textContent = noticeText;
  $("retry").hidden = !canRetry;
}

function showLiveState() {
  if (!cameraReady || !socket || socket.readyState !== WebSocket.OPEN) return;
  setState("live", "Live");
}

function cameraProblem(error) {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    return ["no-camera", "The camera needs a secure page. Open this page as http://localhost:" +
      location.port + " on the machine running arfilter, or serve it over https."];
  }
  switch (error && error.name) {
    case "NotAllowedError":
    case "SecurityError":
      return ["camera-refused", "Camera access was refused. Allow the camera for this site " +
        "(the camera icon in the address bar), then press Try again."];
    case "NotFoundError":
    case "OverconstrainedError":
      return ["no-camera", "No camera was found. Connect a camera, then press Try again."];
    case "NotReadableError":
    case "AbortError":
      return ["no-camera", "The camera is in use by another program. Close it, then press Try again."];
    default:
      return ["no-camera", "The camera could not be opened (" + (error && error.message || error) +
        "). Press Try again."];
  }
}

// ------------------------------------------------------------------ camera

async function startCamera() {
  setState("starting", "Asking for the camera…", "Allow the camera to see yourself with a filter.");
  try {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) throw new Error("no mediaDevices");
    const stream = await navigator.mediaDevices.getUserMedia(
      {video: {width: {ideal: 640}, height: {ideal: 480}, facingMode: "user"}, audio: false});
    video.srcObject = stream;
    await video.play();
    cameraReady = true;
    for (const track of stream.getVideoTracks()) {
      track.addEventListener("ended", () => {
        cameraReady = false;
        setState("no-camera", "Camera stopped", "The camera stopped. Press Try again.", true);
      });
    }
    if (socket && socket.readyState === WebSocket.OPEN) showLiveState();
    else setState("connecting", "Connecting to the server…", "Connecting to the server…");
  } catch (error) {
    cameraReady = false;
    const [state, text] = cameraProblem(error);
    setState(state, state === "camera-refused" ? "Camera refused" : "No camera", text, true);
  }
}

function sendFrame() {
  if (!cameraReady || !socket || socket.readyState !== WebSocket.OPEN || video.readyState < 2) return;
  const now = performance.now();
  if (inFlightSince && now - inFlightSince < RESULT_TIMEOUT_MS) return;
  const scale = Math.min(1, CAPTURE_MAX_WIDTH / video.videoWidth);
  const width = Math.round(video.videoWidth * scale), height = Math.round(video.videoHeight * scale);
  if (!width || !height) return;
  if (capture.width !== width || capture.height !== height) {
    capture.width = width;
    capture.height = height;
  }
  // Mirroring happens here, before the server sees the frame, so the bars' text stays readable.
  captureContext.setTransform($("mirror").checked ? -1 : 1, 0, 0, 1, $("mirror").checked ? width : 0, 0);
  captureContext.drawImage(video, 0, 0, width, height);
  inFlightSince = now;
  capture.toBlob((blob) => {
    if (blob && socket && socket.readyState === WebSocket.OPEN) socket.send(blob);
    else inFlightSince = 0;
  }, "image/jpeg", JPEG_QUALITY);
}

function tick() {
  sendFrame();
  requestAnimationFrame(tick);
}

// ------------------------------------------------------------------ server connection

function sendOptions() {
  if (!socket || socket.readyState !== WebSocket.OPEN) return;
  socket.send(JSON.stringify({type: "options", pack: $("pack").value || undefined,
    bars: $("bars").checked, mirror: $("mirror").checked, image: true}));
}

function connect() {
  clearTimeout(reconnectTimer);
  const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";
  socket = new WebSocket(url);
  socket.binaryType = "arraybuffer";
  socket.addEventListener("open", () => {
    reconnectDelayS = 1;
    inFlightSince = 0;
    sendOptions();
    if (cameraReady) showLiveState();
  });
  socket.addEventListener("message", (event) => {
    if (typeof event.data === "string") onText(JSON.parse(event.data));
    else onResult(event.data);
  });
  socket.addEventListener("close", () => {
    socket = null;
    inFlightSince = 0;
    const now = performance.now();
    if (now < busyUntil) {
      reconnectTimer = setTimeout(connect, busyUntil - now);
      return;
    }
    const delay = reconnectDelayS;
    reconnectDelayS = Math.min(RECONNECT_MAX_S, reconnectDelayS * 2);
    setState("disconnected", "Disconnected",
      "The connection to the server dropped. Reconnecting in " + delay + " s…");
    reconnectTimer = setTimeout(connect, delay * 1000);
  });
}

function onText(message) {
  if (message.type === "busy") {
    busyUntil = performance.now() + message.retry_s * 1000;
    setState("busy", "Server busy", "The server is busy: " + message.message.replace(/^the server is busy: /, ""));
  } else if (message.type === "options") {
    fillPacks(message.packs, message.pack);
  } else if (message.type === "error") {
    inFlightSince = 0;
    live.errors.push(message.message);
    $("status").textContent = "Server: " + message.message;
  } else if (message.type === "result") {
    inFlightSince = 0;  // a JSON-only result (image off)
  }
}

async function onResult(buffer) {
  const rtt = performance.now() - inFlightSince;
  const headerLength = new DataView(buffer).getUint32(0);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, headerLength)));
  const jpeg = new Blob([new Uint8Array(buffer, 4 + headerLength)], {type: "image/jpeg"});
  inFlightSince = 0;
  sendFrame();  // the next frame travels while this one is drawn
  const bitmap = await createImageBitmap(jpeg);
  if (view.width !== bitmap.width || view.height !== bitmap.height) {
    view.width = bitmap.width;
    view.height = bitmap.height;
  }
  viewContext.drawImage(bitmap, 0, 0);
  bitmap.close();
  live.frames += 1;
  live.lastResult = header;
  live.rttMs.push(rtt);
  if (live.rttMs.length > 100) live.rttMs.shift();
  $("shot").disabled = false;
  const now = performance.now();
  shownAt.push(now);
  while (shownAt.length && now - shownAt[0] > 1000) shownAt.shift();
  const labels = header.faces.map((face) => face.label).join(", ");
  $("stats").textContent = shownAt.length + " frames/s · " + Math.round(rtt) + " ms round trip · " +
    header.faces.length + (header.faces.length === 1 ? " face" : " faces") + (labels ? " · " + labels : "");
  if (live.state !== "live") showLiveState();
}

// ------------------------------------------------------------------ controls

async function loadPacks() {
  try {
    const response = await fetch("/api/packs");
    const body = await response.json();
    fillPacks(body.packs.map((pack) => pack.name), $("pack").value);
    const select = $("pack");
    for (const pack of body.packs) {
      const option = [...select.options].find((item) => item.value === pack.name);
      if (option) option.title = pack.description;
    }
  } catch (error) {
    live.errors.push("packs: " + error);
  }
}

function fillPacks(names, current) {
  const select = $("pack");
  if ([...select.options].map((option) => option.value).join() !== names.join()) {
    select.replaceChildren(...names.map((name) => new Option(name, name)));
  }
  if (current) select.value = current;
}

function saveScreenshot() {
  view.toBlob((blob) => {
    const link = document.createElement("a");
    const stamp = new Date().toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
    link.download = "arfilter-" + stamp + ".png";
    link.href = URL.createObjectURL(blob);
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  }, "image/png");
}

$("pack").addEventListener("change", sendOptions);
$("bars").addEventListener("change", sendOptions);
$("mirror").addEventListener("change", sendOptions);
$("shot").addEventListener("click", saveScreenshot);
$("retry").addEventListener("click", startCamera);
$("controls").addEventListener("submit", (event) => event.preventDefault());

loadPacks();
connect();
startCamera();
requestAnimationFrame(tick);
