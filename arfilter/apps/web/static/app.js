// The live page of `arfilter serve`: the browser's camera in, the server's composited frames out.
//
// At most two frames are in flight: a camera frame is sent as a JPEG only while fewer than
// two results are outstanding, so the page never builds a backlog and the frame rate follows
// what the server manages (the second frame travels and waits while the first is processed,
// which hides the network and the encoding time without queueing more than one frame). Results are binary messages: a 4-byte big-endian
// header length, a JSON header (faces, labels, probabilities) and the composited JPEG, drawn
// as it is onto the canvas (the screenshot saves exactly that canvas).
"use strict";

const CAPTURE_MAX_WIDTH = 640;     // larger cameras are scaled down before sending
const JPEG_QUALITY = 0.8;
const MAX_IN_FLIGHT = 2;
const RESULT_TIMEOUT_MS = 3000;    // frames without an answer by then are given up on
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
const sentAt = [];                 // send times of the frames in flight, oldest first
// Where the browser reports each new camera frame (requestVideoFrameCallback), a frame is sent
// once: drawing the video at the display's 60 Hz would send a 30 Hz camera's frames twice.
let freshFrame = true;
let frameCallbacks = false;
let reconnectDelayS = 1;
let reconnectTimer = 0;
let busyUntil = 0;
const shownAt = [];
// What is wrong, if anything, on each side: [state, status line, notice]. The camera's problem
// is shown first, as only the user can fix it; then the server's.
let cameraIssue = ["starting", "Asking for the camera…", "Allow the camera to see yourself with a filter."];
let serverIssue = ["connecting", "Connecting to the server…", "Connecting to the server…"];

// ------------------------------------------------------------------ states and messages

function showState() {
  const [state, statusText, noticeText] = cameraIssue || serverIssue || ["live", "Live", ""];
  live.state = state;
  document.body.dataset.state = state;
  $("status").textContent = statusText;
  $("notice").hidden = !noticeText;
  $("notice-text").textContent = noticeText;
  $("retry").hidden = !(cameraIssue && cameraIssue[0] !== "starting");
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
  cameraIssue = ["starting", "Asking for the camera…", "Allow the camera to see yourself with a filter."];
  showState();
  try {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) throw new Error("no mediaDevices");
    const stream = await navigator.mediaDevices.getUserMedia(
      {video: {width: {ideal: 640}, height: {ideal: 480}, facingMode: "user"}, audio: false});
    video.srcObject = stream;
    await video.play();
    if (video.requestVideoFrameCallback) {
      const onVideoFrame = () => {
        freshFrame = true;
        frameCallbacks = true;
        video.requestVideoFrameCallback(onVideoFrame);
      };
      video.requestVideoFrameCallback(onVideoFrame);
    }
    cameraReady = true;
    cameraIssue = null;
    for (const track of stream.getVideoTracks()) {
      track.addEventListener("ended", () => {
        cameraReady = false;
        cameraIssue = ["no-camera", "Camera stopped", "The camera stopped. Press Try again."];
        showState();
      });
    }
  } catch (error) {
    cameraReady = false;
    const [state, text] = cameraProblem(error);
    cameraIssue = [state, state === "camera-refused" ? "Camera refused" : "No camera", text];
  }
  showState();
}

function sendFrame() {
  if (!cameraReady || !socket || socket.readyState !== WebSocket.OPEN || video.readyState < 2) return;
  const now = performance.now();
  if (sentAt.length && now - sentAt[0] > RESULT_TIMEOUT_MS) sentAt.length = 0;
  if (sentAt.length >= MAX_IN_FLIGHT || (frameCallbacks && !freshFrame)) return;
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
  sentAt.push(now);
  freshFrame = false;
  capture.toBlob((blob) => {
    if (blob && socket && socket.readyState === WebSocket.OPEN) socket.send(blob);
    else sentAt.shift();
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
    sentAt.length = 0;
    serverIssue = null;
    sendOptions();
    showState();
  });
  socket.addEventListener("message", (event) => {
    if (typeof event.data === "string") onText(JSON.parse(event.data));
    else onResult(event.data);
  });
  socket.addEventListener("close", () => {
    socket = null;
    sentAt.length = 0;
    shownAt.length = 0;
    $("stats").textContent = "";
    const now = performance.now();
    if (now < busyUntil) {
      reconnectTimer = setTimeout(connect, busyUntil - now);
      return;
    }
    const delay = reconnectDelayS;
    reconnectDelayS = Math.min(RECONNECT_MAX_S, reconnectDelayS * 2);
    serverIssue = ["disconnected", "Disconnected",
      "The connection to the server dropped. Reconnecting in " + delay + "\u00a0s…"];
    showState();
    reconnectTimer = setTimeout(connect, delay * 1000);
  });
}

function onText(message) {
  if (message.type === "busy") {
    busyUntil = performance.now() + message.retry_s * 1000;
    serverIssue = ["busy", "Server busy", "The server is busy: " + message.message.replace(/^the server is busy: /, "") +
      ". Trying again in " + message.retry_s + "\u00a0s…"];
    showState();
  } else if (message.type === "options") {
    fillPacks(message.packs, message.pack);
  } else if (message.type === "error") {
    if (message.about === "frame") sentAt.shift();
    live.errors.push(message.message);
    $("status").textContent = "Server: " + message.message;
  }
}

async function onResult(buffer) {
  const headerLength = new DataView(buffer).getUint32(0);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, headerLength)));
  const jpeg = new Blob([new Uint8Array(buffer, 4 + headerLength)], {type: "image/jpeg"});
  sentAt.splice(0, header.dropped);  // frames the server replaced by newer ones: never answered
  const capturedAt = sentAt.shift() || performance.now();
  sendFrame();  // the next frame travels while this one is drawn
  const bitmap = await createImageBitmap(jpeg);
  if (view.width !== bitmap.width || view.height !== bitmap.height) {
    view.width = bitmap.width;
    view.height = bitmap.height;
  }
  viewContext.drawImage(bitmap, 0, 0);
  bitmap.close();
  const rtt = performance.now() - capturedAt;  // frame to display: capture, encode, server, decode, draw
  live.frames += 1;
  live.lastResult = header;
  live.rttMs.push(rtt);
  if (live.rttMs.length > 100) live.rttMs.shift();
  $("shot").disabled = false;
  const now = performance.now();
  shownAt.push(now);
  while (shownAt.length && now - shownAt[0] > 1000) shownAt.shift();
  const labels = header.faces.map((face) => face.label).join(", ");
  $("stats").textContent = shownAt.length + " frames/s · " + Math.round(rtt) + " ms camera to screen · " +
    header.faces.length + (header.faces.length === 1 ? " face" : " faces") + (labels ? " · " + labels : "");

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
