// The spinesense cockpit: one runner's live metrics, alerts and spoken cues, or (?runner=+) every runner.
// Talks MQTT over WebSockets straight to the broker (MQTT.js); the server only hands out config.json.
// Topic tree and payloads: docs/mqtt.md and docs/schemas/. What the page shows: docs/cockpit.md.
"use strict";

const ROOT = "spinesense/v1/";
const SPARK_MS = 5 * 60 * 1000; // each sparkline shows the last 5 minutes of strides
const SMOOTH_STRIDES = 8; // a tile shows the median of the last strides, as the alert rules judge them
const STALE_MS = 10 * 1000; // no stride for this long: the sensor is quiet
const CLEARED_MS = 20 * 1000; // how long the banner says an episode has ended

// Which alert kinds turn which tile red (docs/alerts.md).
const TILES = [
  { id: "cadence", label: "Cadence", metric: "cadence_spm", unit: "spm", digits: 0,
    kinds: ["low_cadence", "overstriding"] },
  { id: "gct", label: "Ground contact", metric: "gct_ms", unit: "ms", digits: 0,
    kinds: ["fatigue_drift", "asymmetry"], detail: gctDetail },
  { id: "lean", label: "Trunk lean", metric: "trunk_lean_deg", wide: true, words: leanWords,
    kinds: ["forward_lean", "backward_lean", "side_lean"], detail: sideLeanDetail },
  { id: "drop", label: "Pelvic drop", metric: "pelvic_drop_deg", wide: true, words: dropWords,
    kinds: ["pelvic_drop_left", "pelvic_drop_right"], detail: dropDetail, gyroscope: true },
  { id: "impact", label: "Impact", metric: "vgrf_peak_bw", unit: "BW", digits: 1, wide: true,
    kinds: ["high_impact"], detail: impactDetail },
  { id: "tilt", label: "Pelvic tilt range", metric: "pelvic_tilt_rom_deg", unit: "°", digits: 0, kinds: [],
    gyroscope: true },
  { id: "vo", label: "Vertical oscillation", metric: "vertical_oscillation_cm", unit: "cm", digits: 1, kinds: [] },
  { id: "run", label: "Run", metric: "elapsed_s", wide: true, words: clock, kinds: [], detail: runDetail,
    spark: false, latest: true },
];

// Units of the numbers behind an alert, by the metric its rule judges.
const KIND_UNITS = {
  forward_lean: "°", backward_lean: "°", side_lean: "°", pelvic_drop_left: "°", pelvic_drop_right: "°",
  high_impact: " BW", low_cadence: " spm", fatigue_drift: " ms",
};
const VALUE_WORDS = { value: "now", baseline: "your usual", limit: "limit", gct_left_ms: "left",
  gct_right_ms: "right", difference: "difference", ratio: "ratio", lost_fraction: "lost" };

const $ = (id) => document.getElementById(id);
const median = (xs) => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (x, digits = 0) => (x === null || x === undefined ? "–" : Number(x).toFixed(digits));
const deg = (x) => `${Math.round(Math.abs(x))}°`;
const parse = (payload) => {
  try { return JSON.parse(payload.toString()); } catch { return null; }
};

function leanWords(v) {
  if (Math.abs(v) < 0.5) return "upright";
  return v > 0 ? `forward ${deg(v)}` : `back ${deg(v)}`;
}
function sideLeanDetail(s) {
  const v = s.value("trunk_lateral_lean_deg");
  if (v === null) return "";
  if (Math.abs(v) < 0.5) return "level side to side";
  return `leaning ${v > 0 ? "left" : "right"} ${deg(v)}`;
}
function dropWords(_v, s) {
  const l = s.value("pelvic_drop_left_deg");
  const r = s.value("pelvic_drop_right_deg");
  if (l === null && r === null) return "–";
  return `L ${fmt(l)}°  R ${fmt(r)}°`;
}
function dropDetail(s) {
  const l = s.value("pelvic_drop_left_deg");
  const r = s.value("pelvic_drop_right_deg");
  if (l === null || r === null || l + r === 0) return "";
  const pct = (Math.abs(l - r) / ((l + r) / 2)) * 100;
  return pct < 5 ? "even left and right" : `${Math.round(pct)}% more on the ${l > r ? "left" : "right"}`;
}
function gctDetail(s) {
  const l = s.value("gct_left_ms");
  const r = s.value("gct_right_ms");
  return l === null || r === null ? "" : `L ${fmt(l)} R ${fmt(r)}`;
}
function impactDetail(s) {
  const rate = s.value("loading_rate_g_per_s");
  return rate === null ? "" : `loading rate ${fmt(rate)} g/s`;
}
function clock(seconds) {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(h ? 2 : 1, "0");
  return `${h ? `${h}:` : ""}${mm}:${String(s % 60).padStart(2, "0")}`;
}
function runDetail(s) {
  return `${s.count} strides`;
}

// ---------------------------------------------------------------------------------------------------
// Strides: per-stride history for sparklines and the smoothed value each tile shows.

class Strides {
  constructor() {
    this.rows = []; this.lastArrival = null; this.count = 0; this.firstMs = null;
    this.startMs = null; // the session's start (retained "started"): the run's clock, even when opened late
  }

  add(stride) {
    const row = { ...stride };
    this.firstMs ??= stride.time_ms;
    this.count = Math.max(this.count + 1, stride.index + 1); // the run's strides, not just those seen here
    row.elapsed_s = (stride.time_ms - (this.startMs ?? this.firstMs)) / 1000;
    const drops = [stride.pelvic_drop_left_deg, stride.pelvic_drop_right_deg].filter((x) => x !== null);
    row.pelvic_drop_deg = drops.length ? Math.max(...drops) : null;
    this.rows.push(row);
    const cutoff = row.time_ms - SPARK_MS;
    while (this.rows.length && this.rows[0].time_ms < cutoff) this.rows.shift();
    this.lastArrival = Date.now();
  }

  value(metric) {
    const xs = [];
    for (let i = this.rows.length - 1; i >= 0 && xs.length < SMOOTH_STRIDES; i--) {
      const x = this.rows[i][metric];
      if (x !== null && x !== undefined) xs.push(x);
    }
    return median(xs);
  }

  latest(metric) {
    return this.rows.length ? this.rows[this.rows.length - 1][metric] ?? null : null;
  }

  series(metric) {
    return this.rows.filter((r) => r[metric] !== null && r[metric] !== undefined)
      .map((r) => [r.time_ms, r[metric]]);
  }
}

// ---------------------------------------------------------------------------------------------------
// Colours: against the runner's baseline band and the rule's absolute limit (limits from config.json).

function bounds(metric, limits, baseline) {
  // [low, high]: beyond either the rule fires. null where nothing bounds that side.
  let low = null;
  let high = null;
  const rules = limits[metric] || [];
  const b = baseline ? baseline[metric === "pelvic_drop_deg" ? "pelvic_drop_left_deg" : metric] : undefined;
  const bRight = baseline ? baseline.pelvic_drop_right_deg : undefined;
  const base = metric === "pelvic_drop_deg" && b !== undefined && bRight !== undefined ? Math.max(b, bRight) : b;
  for (const rule of rules) {
    const candidates = [];
    const up = rule.direction !== "below";
    if (rule.limit !== undefined) candidates.push(rule.limit);
    if (base !== undefined && base !== null) {
      if (rule.delta !== undefined) candidates.push(up ? base + rule.delta : base - rule.delta);
      if (rule.ratio !== undefined) candidates.push(up ? base * rule.ratio : base / rule.ratio);
      if (rule.direction === "both" && rule.delta !== undefined) low = base - rule.delta;
    }
    if (candidates.length === 0) continue;
    // Relative and absolute limits: whichever is met first fires (docs/alerts.md).
    if (up) high = Math.min(high ?? Infinity, ...candidates);
    else low = Math.max(low ?? -Infinity, ...candidates);
  }
  return { low, high, base: base ?? null };
}

function judge(value, bound) {
  if (value === null) return "none";
  const { low, high, base } = bound;
  if ((high !== null && value > high) || (low !== null && value < low)) return "alert";
  if (base !== null) {
    if (high !== null && value > base + (high - base) / 2) return "watch";
    if (low !== null && value < base - (base - low) / 2) return "watch";
  } else if (high !== null && value > high * 0.85) {
    return "watch";
  }
  return low === null && high === null ? "plain" : "ok";
}

function sparkline(svg, series, bound) {
  const w = 300;
  const h = 48;
  if (series.length < 2) { svg.innerHTML = ""; return; }
  const t1 = series[series.length - 1][0];
  const t0 = Math.max(series[0][0], t1 - SPARK_MS); // fills from the left until 5 minutes are in
  const ys = series.map((p) => p[1]);
  const marks = [bound.low, bound.high, bound.base].filter((x) => x !== null);
  let lo = Math.min(...ys, ...marks);
  let hi = Math.max(...ys, ...marks);
  if (hi - lo < 1e-9) { hi += 1; lo -= 1; }
  const pad = (hi - lo) * 0.08;
  lo -= pad; hi += pad;
  const x = (t) => ((t - t0) / Math.max(t1 - t0, 1)) * w;
  const y = (v) => h - ((v - lo) / (hi - lo)) * h;
  let band = "";
  if (bound.base !== null && (bound.low !== null || bound.high !== null)) {
    const top = y(bound.high ?? hi);
    const bottom = y(bound.low ?? lo);
    band = `<rect class="band" x="0" y="${top}" width="${w}" height="${Math.max(0, bottom - top)}"/>`;
  }
  const limitLines = [bound.low, bound.high].filter((v) => v !== null)
    .map((v) => `<line class="limit" x1="0" x2="${w}" y1="${y(v)}" y2="${y(v)}"/>`).join("");
  const points = series.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
  svg.innerHTML = `${band}${limitLines}<polyline class="line" points="${points}"/>`;
}

// ---------------------------------------------------------------------------------------------------
// Spoken cues: speech where the browser has it, else a short tone; a vibration where the device has one.

class Cues {
  constructor(cooldownS) {
    this.cooldownMs = cooldownS * 1000;
    this.on = false;
    this.lastCue = new Map(); // alert kind -> Date.now() of its last spoken cue
    this.audio = null;
    this.button = $("sound");
    this.button.addEventListener("click", () => this.toggle());
  }

  toggle() {
    // Browsers let a page speak only after a tap: the first tap also unlocks speech and sound.
    this.on = !this.on;
    if (this.on && !this.audio && window.AudioContext) this.audio = new AudioContext();
    if (this.audio && this.audio.state === "suspended") this.audio.resume();
    this.button.setAttribute("aria-pressed", String(this.on));
    this.button.textContent = this.on ? "Sound on" : "Muted";
  }

  cue(alert) {
    if (!this.on) return false;
    const key = `${alert.kind}:${alert.state}`;
    const last = this.lastCue.get(key);
    if (alert.state === "raised" && last !== undefined && Date.now() - last < this.cooldownMs) return false;
    this.lastCue.set(key, Date.now());
    if (navigator.vibrate && alert.state === "raised") navigator.vibrate([250, 120, 250]);
    if (window.speechSynthesis && window.SpeechSynthesisUtterance) {
      const utterance = new SpeechSynthesisUtterance(alert.message);
      utterance.rate = 1.05;
      window.speechSynthesis.speak(utterance);
    } else {
      this.tone(alert.state === "raised" ? 880 : 440);
    }
    return true;
  }

  tone(hz) {
    if (!this.audio) return;
    const osc = this.audio.createOscillator();
    const gain = this.audio.createGain();
    osc.frequency.value = hz;
    gain.gain.setValueAtTime(0.3, this.audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, this.audio.currentTime + 0.4);
    osc.connect(gain).connect(this.audio.destination);
    osc.start();
    osc.stop(this.audio.currentTime + 0.4);
  }
}

// ---------------------------------------------------------------------------------------------------
// One runner's cockpit.

class Cockpit {
  constructor(runner, config) {
    this.runner = runner;
    this.limits = config.limits || {};
    this.strides = new Strides();
    this.baseline = null; // the retained baseline payload
    this.baselineAt = 0;
    this.active = []; // alerts active now
    this.lastEvent = null; // the latest alert event (raised or cleared), for the banner
    this.cues = new Cues(config.cooldown_s ?? 120);
    this.sessionEnded = null;
    this.gyroscope = null; // from the session's start: false means no pelvic angles
    $("title").textContent = runner;
    document.title = `${runner} · spinesense`;
    $("cockpit").hidden = false;
    this.tiles = new Map(TILES.map((tile) => [tile.id, this.makeTile(tile)]));
    setInterval(() => this.tick(), 1000);
  }

  topics() { return [`${ROOT}${this.runner}/#`]; }

  makeTile(tile) {
    const el = document.createElement("article");
    el.className = `tile${tile.wide ? " wide" : ""}`;
    el.id = `tile-${tile.id}`;
    el.dataset.state = "none";
    el.innerHTML = `<h2 class="label">${tile.label}</h2>
      <p class="value"><span class="number">–</span>${tile.unit ? `<span class="unit${tile.unit === "°" ? " deg" : ""}">${tile.unit}</span>` : ""}</p>
      <p class="detail"></p>
      ${tile.spark === false ? "" : '<svg class="spark" viewBox="0 0 300 48" preserveAspectRatio="none" aria-hidden="true"></svg>'}`;
    $("tiles").append(el);
    return el;
  }

  onMessage(sub, payload) {
    const text = payload.toString();
    if (sub === "status") return this.onStatus(text);
    const data = parse(payload);
    if (data === null && text !== "") return undefined;
    switch (sub) {
      case "stride": this.strides.add(data); this.render(); break;
      case "alert": this.onAlert(data); break;
      case "alerts/active": this.active = data ? data.alerts || [] : []; this.render(); break;
      case "baseline": this.baseline = data; this.baselineAt = Date.now(); this.renderBaseline(); break;
      case "session": this.onSession(data); break;
      case "notice": this.onNotice(data); break;
      case "load": renderLoad(data); break;
      default: break;
    }
    return undefined;
  }

  onStatus(text) {
    const online = text === "online";
    chip("chip-runner", online ? "ok" : "bad", online ? "runner online" : "runner offline");
    document.body.dataset.runner = online ? "online" : "offline";
    if (!online) chip("chip-sensor", "wait", "sensor: –");
  }

  onSession(data) {
    if (!data) return;
    if (data.state === "started") {
      // A new run: its strides, not the last run's (the retained "started" also comes on connecting).
      if (this.strides.startMs !== data.time_ms) this.strides = new Strides();
      this.strides.startMs = data.time_ms;
      this.sessionEnded = null;
      this.gyroscope = data.gyroscope ?? null;
      chip("chip-lost", "ok", "no samples lost");
      if (data.gyroscope === false) this.onNotice({ text: "No gyroscope: pelvic angles are not measured." });
    } else if (data.state === "ended") {
      this.sessionEnded = data;
      if (data.lost_samples !== undefined) this.showLost(data.lost_samples, data.samples);
    }
    this.render();
  }

  showLost(lost, samples) {
    const el = $("chip-lost");
    el.hidden = false;
    const share = samples ? ` (${((lost / samples) * 100).toFixed(1)}%)` : "";
    chip("chip-lost", lost > 0 ? "warn" : "ok", lost > 0 ? `${lost} samples lost${share}` : "no samples lost");
  }

  onNotice(data) {
    if (!data || !data.text) return;
    const el = $("notice");
    el.textContent = data.text;
    el.hidden = false;
    const m = /(\d+) samples? lost/.exec(data.text);
    if (m) this.showLost(Number(m[1]));
  }

  onAlert(alert) {
    if (!alert) return;
    this.lastEvent = { ...alert, receivedAt: Date.now() };
    this.cues.cue(alert);
    this.render();
  }

  tick() {
    this.renderSensor();
    this.renderBaseline();
    this.renderBanner();
  }

  renderSensor() {
    if (this.active.some((a) => a.kind === "signal_lost")) {
      chip("chip-sensor", "bad", "sensor link lost");
    } else if (this.strides.lastArrival === null) {
      chip("chip-sensor", "wait", this.sessionEnded ? "run ended" : "sensor: waiting");
    } else if (this.sessionEnded) {
      chip("chip-sensor", "wait", "run ended");
    } else {
      const age = Date.now() - this.strides.lastArrival;
      if (age < STALE_MS) chip("chip-sensor", "ok", "sensor streaming");
      else chip("chip-sensor", "warn", `no stride for ${Math.round(age / 1000)} s`);
    }
    if (this.active.some((a) => a.kind === "many_gaps")) {
      $("chip-lost").hidden = false;
      chip("chip-lost", "warn", "losing samples");
    }
  }

  renderBaseline() {
    const el = $("baseline");
    const b = this.baseline;
    if (!b) {
      el.dataset.state = "wait";
      el.textContent = "baseline: not published yet";
      return;
    }
    if (b.state === "learning") {
      // seconds_left counts running time: between updates (every 10 s of running) the page counts
      // down on its own, but never past the next update, so a walk break does not run it to zero.
      const told = b.seconds_left ?? 0;
      const left = Math.max(0, told - Math.min(10, (Date.now() - this.baselineAt) / 1000));
      const mins = Math.floor(left / 60);
      const secs = String(Math.floor(left % 60)).padStart(2, "0");
      el.dataset.state = "wait";
      el.textContent = b.seconds_left === undefined
        ? "learning your baseline"
        : `learning your baseline: ${mins}:${secs} left`;
    } else if (b.state === "learned" || b.state === "profile") {
      el.dataset.state = "ok";
      el.textContent = b.state === "profile"
        ? "baseline from your profile: colours compare with your usual"
        : "baseline learned: colours compare with your usual";
    } else {
      el.dataset.state = "wait";
      el.textContent = `baseline: ${b.state ?? "unknown"}`;
    }
  }

  baselineValues() {
    return this.baseline && this.baseline.values ? this.baseline.values : null;
  }

  render() {
    const baseline = this.baselineValues();
    const activeKinds = new Set(this.active.map((a) => a.kind));
    for (const tile of TILES) {
      const el = this.tiles.get(tile.id);
      const value = tile.latest ? this.strides.latest(tile.metric) : this.strides.value(tile.metric);
      const bound = bounds(tile.metric, this.limits, baseline);
      let state = judge(value, bound);
      if (tile.kinds.some((k) => activeKinds.has(k))) state = "alert";
      el.dataset.state = state;
      const number = el.querySelector(".number");
      number.textContent = value === null ? "–" : tile.words ? tile.words(value, this.strides) : fmt(value, tile.digits);
      el.querySelector(".detail").textContent = this.detail(tile, value);
      const unit = el.querySelector(".unit");
      if (unit) unit.hidden = value === null;
      if (tile.spark !== false) sparkline(el.querySelector(".spark"), this.strides.series(tile.metric), bound);
    }
    this.renderBanner();
    this.renderSensor();
  }

  detail(tile, value) {
    if (value !== null) return tile.detail ? tile.detail(this.strides) : "";
    if (tile.gyroscope && this.gyroscope === false) return "no gyroscope";
    return this.strides.count ? "no data" : "waiting";
  }

  renderBanner() {
    const banner = $("banner");
    // The newest form alert first (sensor trouble only when nothing else is wrong), and how many more.
    const byTime = [...this.active].sort((a, b) => a.time_ms - b.time_ms);
    const form = byTime.filter((a) => a.severity !== "info");
    const shown = form.length ? form[form.length - 1] : byTime[byTime.length - 1];
    if (shown) {
      banner.dataset.state = shown.severity === "info" ? "info" : "alert";
      $("banner-text").textContent = shown.message;
      const more = this.active.length - 1;
      $("banner-values").textContent = valuesText(shown) + (more > 0 ? ` · ${more} more active` : "");
      banner.hidden = false;
      return;
    }
    const last = this.lastEvent;
    if (last && last.state === "cleared" && Date.now() - last.receivedAt < CLEARED_MS) {
      banner.dataset.state = "cleared";
      $("banner-text").textContent = last.message;
      const values = valuesText(last);
      $("banner-values").textContent = values ? `cleared · ${values}` : "cleared";
      banner.hidden = false;
      return;
    }
    banner.hidden = true;
  }
}

function valuesText(alert) {
  const unit = KIND_UNITS[alert.kind] ?? "";
  return Object.entries(alert.values || {}).map(([key, v]) => {
    const word = VALUE_WORDS[key] ?? key.replaceAll("_", " ");
    if (key === "difference" || key === "lost_fraction" || (key === "limit" && alert.kind === "asymmetry")) {
      return `${word} ${Math.round(v * 100)}%`;
    }
    if (key === "ratio") return `${word} ×${v.toFixed(2)}`;
    const u = key.endsWith("_ms") ? " ms" : unit;
    return `${word} ${fmt(v, Math.abs(v) < 10 ? 1 : 0)}${u}`;
  }).join(" · ");
}

// The retained load payload (docs/schemas/load.schema.json) in a runner's words.
function loadLines(data) {
  const week = data.last_7_days || {};
  const minutes = Math.round((week.running_s || 0) / 60);
  const lines = [[
    "last 7 days",
    `${week.runs ?? 0} ${week.runs === 1 ? "run" : "runs"} · ${Math.floor(minutes / 60)}:${String(minutes % 60).padStart(2, "0")} h · ` +
      `${week.steps ?? 0} steps · ${fmt(week.distance_km, 1)} km · impact ${fmt((week.impact_load_bw || 0) / 1000, 1)} kBW`,
  ]];
  const change = data.weekly_change;
  lines.push(["on the week before", change === null || change === undefined
    ? "nothing to compare yet" : `${change >= 0 ? "+" : "−"}${Math.round(Math.abs(change) * 100)}%`]);
  lines.push(["acute:chronic", data.acwr === null || data.acwr === undefined
    ? `needs 28 days of runs (${data.history_days ?? 0} so far)` : `${fmt(data.acwr, 2)} (${data.acwr_method})`]);
  for (const alert of data.alerts || []) lines.push(["load alert", alert.message]);
  const shoes = data.shoes;
  lines.push(["shoes", shoes
    ? `${shoes.name}: ${fmt(shoes.km, 0)} of ${fmt(shoes.limit_km, 0)} km${shoes.message ? ` · ${shoes.message}` : ""}`
    : "none in use"]);
  return lines;
}

function renderLoad(data) {
  const box = $("load");
  const list = $("load-list");
  list.innerHTML = "";
  if (!data || typeof data !== "object" || !data.last_7_days) { box.hidden = true; return; }
  for (const [term, desc] of loadLines(data)) {
    const dt = document.createElement("dt");
    dt.textContent = term;
    const dd = document.createElement("dd");
    dd.textContent = desc;
    list.append(dt, dd);
  }
  box.dataset.state = (data.alerts || []).length || (data.shoes && data.shoes.state !== "ok") ? "watch" : "ok";
  box.hidden = false;
}

function chip(id, state, text) {
  const el = $(id);
  el.dataset.state = state;
  el.textContent = text;
}

// ---------------------------------------------------------------------------------------------------
// The coach view: every runner under spinesense/v1/+/.

class Coach {
  constructor() {
    this.runners = new Map(); // id -> {status, active, lastStride}
    $("title").textContent = "All runners";
    document.title = "runners · spinesense";
    $("cockpit").hidden = true;
    $("coach").hidden = false;
    $("sound").hidden = true;
    $("coach-link").hidden = true;
    $("chip-runner").hidden = true;
    $("chip-sensor").hidden = true;
    setInterval(() => this.render(), 1000);
  }

  topics() {
    return [`${ROOT}+/status`, `${ROOT}+/stride`, `${ROOT}+/alerts/active`, `${ROOT}+/baseline`];
  }

  onMessage(sub, payload, runner) {
    const r = this.runners.get(runner) ?? { status: "unknown", active: [], lastStride: null, baseline: null };
    this.runners.set(runner, r);
    if (sub === "status") r.status = payload.toString();
    else if (sub === "stride") r.lastStride = Date.now();
    else if (sub === "alerts/active") r.active = (parse(payload) || {}).alerts || [];
    else if (sub === "baseline") r.baseline = parse(payload);
    this.render();
  }

  render() {
    const list = $("runners");
    $("coach-empty").hidden = this.runners.size > 0;
    list.innerHTML = "";
    for (const [id, r] of [...this.runners].sort()) {
      const li = document.createElement("li");
      li.className = "runner";
      li.dataset.state = r.active.some((a) => a.severity !== "info") ? "alert" : r.status === "online" ? "ok" : "off";
      const age = r.lastStride === null ? "no stride yet" : `last stride ${Math.round((Date.now() - r.lastStride) / 1000)} s ago`;
      const alerts = r.active.length ? r.active.map((a) => a.message).join(" · ") : "no active alerts";
      li.innerHTML = `<a href="?runner=${encodeURIComponent(id)}"><strong></strong> <span class="status"></span>
        <span class="alerts"></span><span class="age"></span></a>`;
      li.querySelector("strong").textContent = id;
      li.querySelector(".status").textContent = r.status;
      li.querySelector(".alerts").textContent = alerts;
      li.querySelector(".age").textContent = age;
      list.append(li);
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// The broker connection.

function brokerUrl(configured) {
  // The server names the broker as it sees it; a phone on the network reaches a loopback broker by the
  // host it loaded this page from.
  const url = new URL(configured);
  const loopback = (h) => h === "127.0.0.1" || h === "localhost" || h === "[::1]";
  if (loopback(url.hostname) && !loopback(location.hostname)) url.hostname = location.hostname;
  return url.toString();
}

function connect(config, view) {
  const saved = JSON.parse(localStorage.getItem("spinesense.broker") || "null");
  const settings = saved ?? { url: config.broker_ws_url, username: config.username ?? "", password: "" };
  const form = $("broker-form");
  form.elements.url.value = settings.url;
  form.elements.username.value = settings.username;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const next = { url: form.elements.url.value, username: form.elements.username.value,
      password: form.elements.password.value };
    localStorage.setItem("spinesense.broker", JSON.stringify(next));
    location.reload();
  });
  const options = {
    clientId: `spinesense-cockpit-${Math.random().toString(16).slice(2, 10)}`,
    reconnectPeriod: 2000,
    connectTimeout: 8000,
    protocolVersion: 4,
  };
  if (settings.username) options.username = settings.username;
  if (settings.password) options.password = settings.password;
  const client = window.mqtt.connect(brokerUrl(settings.url), options);
  client.on("connect", () => {
    chip("chip-broker", "ok", "broker connected");
    client.subscribe(view.topics(), { qos: 1 });
  });
  client.on("reconnect", () => chip("chip-broker", "wait", "broker: reconnecting"));
  client.on("offline", () => chip("chip-broker", "bad", "broker unreachable"));
  client.on("error", (err) => chip("chip-broker", "bad", `broker: ${err.message}`));
  client.on("message", (topic, payload) => {
    if (!topic.startsWith(ROOT)) return;
    const rest = topic.slice(ROOT.length);
    const slash = rest.indexOf("/");
    view.onMessage(rest.slice(slash + 1), payload, rest.slice(0, slash));
  });
  return client;
}

async function main() {
  const config = await (await fetch("config.json", { cache: "no-store" })).json();
  const runner = new URLSearchParams(location.search).get("runner") ?? config.runner;
  const view = runner === "+" ? new Coach() : new Cockpit(runner, config);
  window.spinesense = { view, client: connect(config, view) };
}

main();
