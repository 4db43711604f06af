// The live page of `arfilter serve`: the browser's camera in, the server's composited frames out.
//
// At most two frames are in flight: a camera frame is sent as a JPEG only while fewer than
// two results are outstanding, so the page never builds a backlog and the frame rate follows
// what the server manages (the second frame travels and waits while the first is processed,
// which hides the network and the encoding time without queueing more than one frame). Results are binary messages: a 4-byte big-endian
// header length, a JSON header (faces, labels, probabilities) and the composited JPEG, drawn
// as it is onto the canvas. A screenshot is asked of the server, which saves what the window's
// S saves: the lens alone, or with the bars when "Bars in screenshots" (the window's D) is on.
//
// Sharing: Record keeps the canvas with the browser's own MediaRecorder (MP4/H.264 where the browser
// can, WebM otherwise), so recording costs the server nothing; GIF asks the server for the next 4 s
// as a GIF (the same encoder as the window's G). The camera and background choices are remembered
// in localStorage across reloads.
// The window's keys work here too; the page's other choices are remembered in localStorage as well.
"use strict";

const CAPTURE_MAX_WIDTH = 640;     // larger cameras are scaled down before sending
const JPEG_QUALITY = 0.8;
const MAX_IN_FLIGHT = 2;
const RESULT_TIMEOUT_MS = 3000;    // frames without an answer by then are given up on
const RECONNECT_MAX_S = 10;
const RECORD_FPS = 30;
// Recording formats in order of preference: H.264 MP4 plays everywhere; WebM where the browser has no MP4 muxer.
const RECORD_TYPES = [["video/mp4;codecs=avc1.42E01F", "mp4"], ["video/mp4", "mp4"],
  ["video/webm;codecs=vp9", "webm"], ["video/webm", "webm"]];
const STORED_CAMERA = "arfilter.camera";
const STORED_BACKGROUND = "arfilter.background";
const STORE_KEY = "arfilter.page";
// Below this width the frame is too small to read the bars drawn on it: they are listed under it.
const narrow = window.matchMedia("(max-width: 600px)");

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
let cameraStream = null;
let recorder = null;
let recordStartedAt = 0;
let recordTimer = 0;
const sentAt = [];                 // send times of the frames in flight, oldest first
// Where the browser reports each new camera frame (requestVideoFrameCallback), a frame is sent
// once: drawing the video at the display's 60 Hz would send a 30 Hz camera's frames twice.
let freshFrame = true;
let frameCallbacks = false;
let reconnectDelayS = 1;
let reconnectTimer = 0;
let busyUntil = 0;
let countdownTimer = 0;
let paused = false;
let storedPack = "";  // the pack the user picked (here or on an earlier visit); "" keeps the server's
const shownAt = [];
// What is wrong, if anything, on each side: [state, status line, notice]. The camera's problem
// is shown first, as only the user can fix it; then the server's.
let cameraIssue = ["starting", "Asking for the camera…", "Allow the camera to see yourself with a filter."];
let serverIssue = ["connecting", "Connecting to the server…", "Connecting to the server…"];

// ------------------------------------------------------------------ states and messages

// The server-side wait shown as it passes: "Reconnecting in 3 s", "2 s", "1 s".
function countdown(seconds, issueAt) {
  clearInterval(countdownTimer);
  let left = Math.max(1, Math.round(seconds));
  serverIssue = issueAt(left);
  showState();
  countdownTimer = setInterval(() => {
    left -= 1;
    if (left < 1) {
      clearInterval(countdownTimer);
      return;
    }
    serverIssue = issueAt(left);
    showState();
  }, 1000);
}

function showState() {
  const [state, statusText, noticeText] = cameraIssue || serverIssue || ["live", "Live", ""];
  live.state = state;
  document.body.dataset.state = state;
  $("status").textContent = statusText;
  $("notice").hidden = !noticeText;
  $("notice-text").textContent = noticeText;
  $("retry").hidden = !(cameraIssue && cameraIssue[0] !== "starting");
  $("file-offer").hidden = !(cameraIssue && cameraIssue[0] !== "starting");
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
    const stream = await openCamera(stored(STORED_CAMERA));
    stopCamera();
    cameraStream = stream;
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
    fillCameras(stream);
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

function stored(key) {
  try { return localStorage.getItem(key); } catch (error) { return null; }  // storage off: nothing remembered
}

function store(key, value) {
  try { localStorage.setItem(key, value); } catch (error) { /* storage off: the choice lasts this visit */ }
}

async function openCamera(deviceId) {
  const size = {width: {ideal: 640}, height: {ideal: 480}};
  if (deviceId) {
    try {
      return await navigator.mediaDevices.getUserMedia({video: {...size, deviceId: {exact: deviceId}}, audio: false});
    } catch (error) {
      // The remembered camera is gone (unplugged, another machine): forget it and take the default one.
      if (error.name !== "NotFoundError" && error.name !== "OverconstrainedError") throw error;
      try { localStorage.removeItem(STORED_CAMERA); } catch (ignored) { /* storage off */ }
    }
  }
  return navigator.mediaDevices.getUserMedia({video: {...size, facingMode: "user"}, audio: false});
}

function stopCamera() {
  if (cameraStream) for (const track of cameraStream.getTracks()) track.stop();
  cameraStream = null;
}

async function fillCameras(stream) {
  const select = $("camera-choice");
  const current = stream.getVideoTracks()[0]?.getSettings().deviceId || "";
  try {
    const cameras = (await navigator.mediaDevices.enumerateDevices()).filter((device) => device.kind === "videoinput");
    select.replaceChildren(...cameras.map((device, index) =>
      new Option(device.label || "Camera " + (index + 1), device.deviceId)));
  } catch (error) {
    live.errors.push("cameras: " + error);
  }
  select.value = current;
}

function chooseCamera() {
  store(STORED_CAMERA, $("camera-choice").value);
  startCamera();
}

// Without a camera the page plays a video file of the user's own through the same lens.
async function playFile(file) {
  if (!file) return;
  video.srcObject = null;
  video.src = URL.createObjectURL(file);
  video.loop = true;
  $("mirror").checked = false;  // a video is shown as it was filmed, as in the window
  sendOptions();
  try {
    await video.play();
    cameraReady = true;
    cameraIssue = null;
  } catch (error) {
    cameraIssue = ["no-camera", "Cannot play the file", "The browser cannot play " + file.name +
      " (" + error.message + "). Choose another video."];
  }
  showState();
}

function sendFrame() {
  if (paused) return;
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
  saveChoices();
  if (!socket || socket.readyState !== WebSocket.OPEN) return;
  // On a phone the bars are listed under the frame rather than drawn on it.
  socket.send(JSON.stringify({type: "options", pack: storedPack || undefined,
    bars: $("bars").checked && !narrow.matches, mirror: $("mirror").checked, raw: $("raw").checked, image: true,
    background: $("background").value || undefined}));
  $("facebars").hidden = !($("bars").checked && narrow.matches);
}

function saveChoices() {
  try {
    localStorage.setItem(STORE_KEY, JSON.stringify({pack: storedPack, bars: $("bars").checked,
      mirror: $("mirror").checked, raw: $("raw").checked, capturehud: $("capturehud").checked}));
  } catch (error) {
    // Private browsing or storage turned off: the choices hold for this visit only.
  }
}

function loadChoices() {
  try {
    const choices = JSON.parse(localStorage.getItem(STORE_KEY) || "{}");
    for (const name of ["bars", "mirror", "raw", "capturehud"]) {
      if (typeof choices[name] === "boolean") $(name).checked = choices[name];
    }
    if (typeof choices.pack === "string") storedPack = choices.pack;
  } catch (error) {
    localStorage.removeItem(STORE_KEY);  // unreadable: forget it, start from the defaults
  }
}

function connect() {
  clearTimeout(reconnectTimer);
  const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";
  socket = new WebSocket(url);
  socket.binaryType = "arraybuffer";
  socket.addEventListener("open", () => {
    clearInterval(countdownTimer);
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
    countdown(delay, (left) => ["disconnected", "Disconnected",
      "The connection to the server dropped. Reconnecting in " + left + "\u00a0s…"]);
    reconnectTimer = setTimeout(connect, delay * 1000);
  });
}

function onText(message) {
  if (message.type === "busy") {
    busyUntil = performance.now() + message.retry_s * 1000;
    const why = message.message.replace(/^the server is busy: /, "");
    countdown(Math.ceil(message.retry_s), (left) => ["busy", "Server busy",
      "The server is busy: " + why + ". Trying again in " + left + "\u00a0s…"]);
  } else if (message.type === "options") {
    live.lastOptions = message;
    if (storedPack && !message.packs.includes(storedPack)) storedPack = "";  // a pack the server no longer has
    fillPacks(message.packs, message.pack);
    fillBackgrounds(message.backgrounds, message.background);
    saveChoices();
  } else if (message.type === "gif") {
    $("gif").textContent = "GIF… " + message.seconds + "\u00a0s";
  } else if (message.type === "calibration") {
    const set = message.state === "set";
    $("calibrate").setAttribute("aria-pressed", String(set));
    $("calibrate").textContent = set ? "Calibrated \u2713" : "Calibrate";
  } else if (message.type === "screenshot") {
    const bytes = Uint8Array.from(atob(message.png), (character) => character.charCodeAt(0));
    download(new Blob([bytes], {type: "image/png"}), "png");
  } else if (message.type === "error") {
    if (message.about === "frame") sentAt.shift();
    live.errors.push(message.message);
    $("status").textContent = "Server: " + message.message;
  }
}

async function onResult(buffer) {
  const headerLength = new DataView(buffer).getUint32(0);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, headerLength)));
  if (header.type === "gif") {
    download(new Blob([new Uint8Array(buffer, 4 + headerLength)], {type: "image/gif"}), "gif");
    $("gif").textContent = "GIF";
    $("gif").disabled = false;
    return;
  }
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
  $("calibrate").disabled = false;
  $("record").disabled = !window.MediaRecorder || !view.captureStream;
  if ($("gif").textContent === "GIF") $("gif").disabled = false;
  const now = performance.now();
  shownAt.push(now);
  while (shownAt.length && now - shownAt[0] > 1000) shownAt.shift();
  if (narrow.matches && $("bars").checked) listBars(header.faces);
  const labels = header.faces.map((face) => face.label).join(", ");
  $("stats").textContent = shownAt.length + " frames/s · " + Math.round(rtt) + " ms camera to screen · " +
    header.faces.length + (header.faces.length === 1 ? " face" : " faces") + (labels ? " · " + labels : "");

}

// ------------------------------------------------------------------ controls

async function loadPacks() {
  try {
    const response = await fetch("/api/packs");
    const body = await response.json();
    // Filling the list must not pick its first entry over the remembered pack or the server's own.
    fillPacks(body.packs.map((pack) => pack.name), storedPack || $("pack").value);
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

function fillBackgrounds(names, current) {
  const select = $("background");
  const labels = {none: "None", blur: "Blur", image: "Picture"};
  if (names && [...select.options].map((option) => option.value).join() !== names.join()) {
    select.replaceChildren(...names.map((name) => new Option(labels[name] || name, name)));
  }
  if (current) select.value = current;
}

function download(blob, extension) {
  const link = document.createElement("a");
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  link.download = "arfilter-" + stamp + "." + extension;
  link.href = URL.createObjectURL(blob);
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}


function calibrate() {
  if (!socket || socket.readyState !== WebSocket.OPEN) return;
  socket.send(JSON.stringify({type: "calibrate"}));
}

function requestGif() {
  if (!socket || socket.readyState !== WebSocket.OPEN) return;
  $("gif").disabled = true;
  socket.send(JSON.stringify({type: "gif"}));
}

function toggleRecording() {
  if (recorder) {
    recorder.stop();
    return;
  }
  const [type, extension] = RECORD_TYPES.find(([candidate]) => MediaRecorder.isTypeSupported(candidate)) || ["", "webm"];
  const chunks = [];
  recorder = new MediaRecorder(view.captureStream(RECORD_FPS), type ? {mimeType: type} : {});
  live.recordingType = recorder.mimeType;
  recorder.addEventListener("dataavailable", (event) => { if (event.data.size) chunks.push(event.data); });
  recorder.addEventListener("stop", () => {
    clearInterval(recordTimer);
    download(new Blob(chunks, {type: recorder.mimeType}), extension);
    recorder = null;
    $("record").textContent = "Record";
  });
  recorder.start(1000);  // a chunk a second: a long recording is not held as one piece
  recordStartedAt = performance.now();
  const showTime = () => {
    const seconds = Math.floor((performance.now() - recordStartedAt) / 1000);
    $("record").textContent = "Stop " + Math.floor(seconds / 60) + ":" + String(seconds % 60).padStart(2, "0");
  };
  showTime();
  recordTimer = setInterval(showTime, 500);
}

$("background").addEventListener("change", () => {
  store(STORED_BACKGROUND, $("background").value);
  sendOptions();
});
$("camera-choice").addEventListener("change", chooseCamera);
$("gif").addEventListener("click", requestGif);
$("record").addEventListener("click", toggleRecording);

// The bars as text under the frame (phones): one block per face, the shown label highlighted.
function listBars(faces) {
  $("facebars").replaceChildren(...faces.map((face) => {
    const block = document.createElement("div");
    block.className = "face";
    const title = document.createElement("h2");
    title.textContent = "Face " + face.id + ": " + face.label + (face.state === "held" ? " (held)" : "");
    block.append(title);
    const probs = $("raw").checked ? face.raw_probs : face.probs;
    for (const [label, p] of Object.entries(probs)) {
      const row = document.createElement("div");
      row.className = "row" + (label === face.label ? " shown" : "");
      const name = document.createElement("span");
      name.textContent = label;
      const track = document.createElement("span");
      track.className = "track";
      const fill = document.createElement("span");
      fill.className = "fill";
      fill.style.width = Math.round(p * 100) + "%";
      fill.style.display = "block";
      track.append(fill);
      const value = document.createElement("span");
      value.className = "value";
      value.textContent = Math.round(p * 100) + "%";
      row.append(name, track, value);
      block.append(row);
    }
    return block;
  }));
}

// As the window's S: the server saves the frame shown last, the lens alone unless "Bars in screenshots".
function saveScreenshot() {
  if (socket && socket.readyState === WebSocket.OPEN) {
    socket.send(JSON.stringify({type: "screenshot", hud: $("capturehud").checked}));
  }
}

function toggle(id) {
  $(id).checked = !$(id).checked;
  sendOptions();
}

// The next entry of a choice (pack, background, camera), as the window's F, K and C step through theirs.
function nextChoice(id) {
  const select = $(id);
  if (select.options.length < 2) return;
  select.selectedIndex = (select.selectedIndex + 1) % select.options.length;
  select.dispatchEvent(new Event("change"));
}

// The window's keys, where the page has the same action.
const KEY_ACTIONS = {
  b: () => toggle("bars"),
  p: () => toggle("raw"),
  s: saveScreenshot,
  m: () => toggle("mirror"),
  " ": () => { paused = !paused; $("status").textContent = paused ? "Paused (Space resumes)" : "Live"; },
  f: () => nextChoice("pack"),
  k: () => nextChoice("background"),
  c: () => nextChoice("camera-choice"),
  g: requestGif,
  r: toggleRecording,
  d: () => { toggle("capturehud"); },
  n: calibrate,
  h: () => { $("keys").open = !$("keys").open; },
};

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.target instanceof HTMLSelectElement || (event.target instanceof HTMLInputElement && event.target.type === "file")) return;
  const action = KEY_ACTIONS[event.key.toLowerCase()];
  if (!action) return;
  event.preventDefault();
  action();
});

$("pack").addEventListener("change", () => { storedPack = $("pack").value; sendOptions(); });
for (const id of ["bars", "mirror", "raw", "capturehud"]) $(id).addEventListener("change", sendOptions);
narrow.addEventListener("change", sendOptions);
$("shot").addEventListener("click", saveScreenshot);
$("calibrate").addEventListener("click", calibrate);
$("retry").addEventListener("click", startCamera);
$("file").addEventListener("change", (event) => playFile(event.target.files[0]));
$("controls").addEventListener("submit", (event) => event.preventDefault());

if (stored(STORED_BACKGROUND)) $("background").value = stored(STORED_BACKGROUND);
loadChoices();
loadPacks();
connect();
startCamera();
requestAnimationFrame(tick);
