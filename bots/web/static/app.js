/* clipbot web chat. Plain browser JavaScript: no build step, no external files.
   Text from the server is always inserted with textContent, never as HTML. */
(function () {
  "use strict";

  var boot = JSON.parse(document.getElementById("boot").textContent);
  var S = boot.strings;
  var state = { aspect: boot.aspects[0].value, jobs: {}, ws: null, wsOpen: false, backoff: 1,
                photo: null };
  var $ = function (id) { return document.getElementById(id); };
  var log = $("log");

  // ---- helpers --------------------------------------------------------------------------
  function newId() {
    // crypto.randomUUID needs a secure context; getRandomValues works on plain http too.
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    var s = "";
    for (var i = 0; i < bytes.length; i++) s += ("0" + bytes[i].toString(16)).slice(-2);
    return s;
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = text;
    return node;
  }

  function api(method, path, body) {
    var opts = { method: method, credentials: "same-origin", headers: {} };
    if (body instanceof FormData) {
      // A photo: the browser writes the multipart Content-Type; the header tells the
      // server this upload comes from this page's script, not from another site's form.
      opts.headers["X-Clipbot-Upload"] = "1";
      opts.body = body;
    } else if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    return fetch(path, opts).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        return { status: r.status, data: data };
      });
    });
  }

  function nearBottom() {
    return log.scrollHeight - log.scrollTop - log.clientHeight < 120;
  }

  function scrollDown(force) {
    if (force || nearBottom()) log.scrollTop = log.scrollHeight;
  }

  // ---- messages -------------------------------------------------------------------------
  function addUser(text, photoUrl) {
    var b = el("div", "msg me", text);
    if (photoUrl) {
      var shot = el("img", "shot");
      shot.src = photoUrl;
      shot.alt = "";
      b.insertBefore(shot, b.firstChild);
    }
    log.appendChild(b);
    scrollDown(true);
    return b;
  }

  function addBot(text, cls) {
    var b = el("div", "msg bot" + (cls ? " " + cls : ""), text);
    log.appendChild(b);
    scrollDown(true);
    return b;
  }

  function answer(r) {
    var d = r.data || {};
    if (r.status >= 400 || !d.kind) {
      addBot(d.text || S.web_server_error, "error");
      return;
    }
    var bubble = addBot(d.text, d.kind === "refusal" ? "warn" : "");
    if (d.link) {
      // e.g. /mydata: the whole export, downloaded with this browser's session cookie.
      var row = el("div", "actions");
      var a = el("a", "btn", d.link.label);
      a.href = d.link.href;
      a.setAttribute("download", d.link.filename || "");
      row.appendChild(a);
      bubble.appendChild(row);
    }
    if (d.kind === "ack" && d.job) {
      // Live updates can overtake this answer: keep the acknowledgement above its card.
      var card = state.jobs[d.job.id];
      if (card) log.insertBefore(bubble, card);
      renderJob(d.job);
    }
    if (d.kind === "lang") $("lang").focus();
    if (d.lang && d.lang !== boot.lang) {  // "/lang es": the page follows, as the picker does
      $("lang").value = d.lang;
      $("lang").onchange.call($("lang"));
    }
  }

  function post(path, body, bubble) {
    bubble.classList.add("sending");
    bubble.classList.remove("failed");
    var hint = bubble.querySelector(".hint");
    if (hint) hint.remove();
    return api("POST", path, body).then(function (r) {
      bubble.classList.remove("sending");
      answer(r);
    }, function () {
      // Network trouble: offer a resend with the same message id, so the server can't
      // make the clip twice even if the first attempt did arrive.
      bubble.classList.remove("sending");
      bubble.classList.add("failed");
      bubble.appendChild(el("span", "hint", S.web_not_sent));
      bubble.onclick = function () { bubble.onclick = null; post(path, body, bubble); };
    });
  }

  function send(text) {
    if (!state.photo) {
      var bubble = addUser(text);
      return post("/api/messages", { id: newId(), text: text, aspect: state.aspect }, bubble);
    }
    // A photo to animate; the text (possibly empty) says how it should move.
    var form = new FormData();
    form.append("id", newId());
    form.append("text", text);
    form.append("aspect", state.aspect);
    form.append("image", state.photo.file, state.photo.file.name || "photo");
    var withPhoto = addUser(text, state.photo.url);
    clearPhoto(false); // the sent bubble keeps showing it
    return post("/api/messages", form, withPhoto);
  }

  // ---- job cards ------------------------------------------------------------------------
  var RANK = { queued: 0, running: 1, done: 2, failed: 2, cancelled: 2 };

  function renderJob(job) {
    var card = state.jobs[job.id];
    if (card && RANK[card.dataset.state] > RANK[job.state]) return; // a late, older update
    if (!card) {
      card = el("div", "msg bot job");
      card.dataset.job = job.id;
      card.appendChild(el("p", "status"));
      var bar = el("div", "bar");
      bar.appendChild(el("span"));
      card.appendChild(bar);
      var cancel = el("button", "link cancel", S.btn_cancel);
      cancel.type = "button";
      cancel.onclick = function () {
        cancel.disabled = true;
        api("POST", "/api/jobs/" + job.id + "/cancel", {}).then(answer, function () {
          cancel.disabled = false;
        });
      };
      card.appendChild(cancel);
      state.jobs[job.id] = card;
      log.appendChild(card);
    }
    card.dataset.state = job.state;
    card.dataset.final = job.final ? "1" : "";
    if (job.clip) return showClip(card, job);
    card.querySelector(".status").textContent = job.text;
    card.querySelector(".bar span").style.width = Math.max(3, job.percent) + "%";
    card.querySelector(".bar").hidden = job.final;
    card.querySelector(".cancel").hidden = job.final;
    if (job.final) card.classList.add("warn");
    scrollDown(false);
  }

  function showClip(card, job) {
    if (card.querySelector("video")) return;
    var stick = nearBottom();
    card.textContent = "";
    card.classList.add("done");
    var video = el("video");
    video.setAttribute("playsinline", "");
    video.playsInline = true;
    video.controls = true;
    video.muted = true; // clips have no sound; muted lets phones autoplay them inline
    video.loop = true;
    video.autoplay = true;
    video.preload = "auto";
    if (job.width && job.height) video.style.setProperty("--ar", String(job.width / job.height));
    video.poster = job.thumb;
    video.src = job.clip;
    card.appendChild(video);
    card.appendChild(el("p", "caption", job.caption));
    var actions = el("div", "actions");
    var dl = el("a", "btn", S.btn_download);
    dl.href = job.download;
    dl.setAttribute("download", "clip-" + job.id + ".mp4");
    actions.appendChild(dl);
    actions.appendChild(againButton(job, false, S.btn_retry));
    actions.appendChild(againButton(job, true, S.btn_vary));
    card.appendChild(actions);
    if (job.preview) showPreview(true);
    video.addEventListener("loadedmetadata", function () { if (stick) scrollDown(true); });
    video.addEventListener("error", function () {
      // Clips expire after a day or so: say so instead of showing a broken player.
      var note = el("p", "status", S.not_found);
      card.replaceChild(note, video);
      dl.remove();
    });
    if (stick) scrollDown(true);
  }

  function againButton(job, vary, label) {
    var b = el("button", "btn", label);
    b.type = "button";
    b.onclick = function () {
      var bubble = addUser((vary ? "✦ " : "↻ ") + label + ": " + job.prompt);
      post("/api/jobs/" + job.id + "/again", { id: newId(), vary: vary }, bubble);
    };
    return b;
  }

  function pendingJobs() {
    return Object.keys(state.jobs).filter(function (id) {
      return !state.jobs[id].dataset.final;
    });
  }

  function refreshPending() {
    pendingJobs().forEach(function (id) {
      api("GET", "/api/jobs/" + id).then(function (r) {
        if (r.status === 200) renderJob(r.data);
      }, function () {});
    });
  }

  // ---- live updates ---------------------------------------------------------------------
  function connect() {
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(proto + location.host + "/api/events");
    state.ws = ws;
    var offlineTimer = null;
    ws.onopen = function () {
      state.wsOpen = true;
      state.backoff = 1;
      $("offline").hidden = true;
      refreshPending(); // catch up on anything that happened while we were away
    };
    ws.onmessage = function (ev) {
      var msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      if (msg.type === "job" && msg.job) renderJob(msg.job);
    };
    ws.onclose = function () {
      state.wsOpen = false;
      offlineTimer = setTimeout(function () {
        if (!state.wsOpen) $("offline").hidden = false;
      }, 3000);
      setTimeout(connect, state.backoff * 1000);
      state.backoff = Math.min(15, state.backoff * 2);
    };
  }

  // Without a WebSocket (some proxies block it) the page still follows its jobs; with one,
  // an occasional check covers a job another server process is handling.
  var ticks = 0;
  setInterval(function () {
    ticks += 1;
    if (!state.wsOpen || ticks % 4 === 0) refreshPending();
  }, 4000);

  // ---- page chrome ----------------------------------------------------------------------
  function showPreview(on) {
    var b = $("preview");
    b.textContent = S.preview_notice;
    b.hidden = !on;
  }

  function applyStrings() {
    document.documentElement.lang = boot.lang;
    document.documentElement.dir = boot.dir;
    document.title = S.web_title;
    $("title").textContent = S.web_title;
    $("lang-label").textContent = S.web_language;
    $("lang").setAttribute("aria-label", S.web_language);
    $("input").placeholder = S.web_placeholder;
    $("input").setAttribute("aria-label", S.web_placeholder);
    $("send").setAttribute("aria-label", S.web_send);
    $("send").title = S.web_send;
    $("attach").setAttribute("aria-label", S.web_attach);
    $("attach").title = S.web_attach;
    $("photo-remove").setAttribute("aria-label", S.web_photo_remove);
    $("photo-remove").title = S.web_photo_remove;
    $("photo-thumb").alt = S.web_attach;
    if (state.photo) {
      input.placeholder = S.web_photo_placeholder;
      input.setAttribute("aria-label", S.web_photo_placeholder);
    }
    $("offline").textContent = S.web_offline;
    $("password").placeholder = S.web_password_placeholder;
    $("login-button").textContent = S.web_password_button;
    $("shapes").setAttribute("aria-label", S.web_shape);
    buildShapes();
    buildLanguages();
    showPreview(boot.preview);
  }

  function buildShapes() {
    var box = $("shapes");
    box.textContent = "";
    boot.aspects.forEach(function (a) {
      var b = el("button", "shape");
      b.type = "button";
      b.dataset.aspect = a.value;
      b.setAttribute("aria-pressed", a.value === state.aspect ? "true" : "false");
      // The ratio itself is the label (no words to translate); the name is for screen readers.
      b.setAttribute("aria-label", (S[a.key] || a.value) + " " + a.value);
      b.title = S[a.key] || a.value;
      b.appendChild(el("span", "icon r" + a.value.replace(":", "x")));
      b.appendChild(el("bdi", "label", a.value));
      b.onclick = function () {
        state.aspect = a.value;
        Array.prototype.forEach.call(box.children, function (c) {
          c.setAttribute("aria-pressed", c === b ? "true" : "false");
        });
      };
      box.appendChild(b);
    });
  }

  function buildLanguages() {
    var sel = $("lang");
    sel.textContent = "";
    boot.languages.forEach(function (l) {
      var o = el("option", null, l.name);
      o.value = l.code;
      o.selected = l.code === boot.lang;
      sel.appendChild(o);
    });
  }

  $("lang").onchange = function () {
    var code = this.value;
    api("GET", "/api/boot?lang=" + encodeURIComponent(code)).then(function (r) {
      if (r.status !== 200) return;
      boot = r.data;
      S = boot.strings;
      applyStrings();
      if (state.ws && state.wsOpen) state.ws.send(JSON.stringify({ type: "lang", lang: code }));
      loadHistory();
    });
  };

  function loadHistory() {
    return api("GET", "/api/history").then(function (r) {
      log.textContent = "";
      state.jobs = {};
      addBot(S.welcome, "welcome");
      (r.data.jobs || []).forEach(function (job) {
        addUser((job.image ? "📷 " : "") + job.prompt);
        renderJob(job);
      });
      scrollDown(true);
    });
  }

  // ---- composer -------------------------------------------------------------------------
  var input = $("input");

  function setPhoto(file) {
    clearPhoto(true);
    state.photo = { file: file, url: URL.createObjectURL(file) };
    $("photo-thumb").src = state.photo.url;
    $("photo").hidden = false;
    input.placeholder = S.web_photo_placeholder;
    input.setAttribute("aria-label", S.web_photo_placeholder);
  }

  function clearPhoto(revoke) {
    if (state.photo && revoke) URL.revokeObjectURL(state.photo.url);
    state.photo = null;
    $("photo").hidden = true;
    $("photo-thumb").removeAttribute("src");
    input.placeholder = S.web_placeholder;
    input.setAttribute("aria-label", S.web_placeholder);
  }

  // On phones the file picker offers the camera as well as the gallery.
  $("attach").onclick = function () { $("photo-file").click(); };
  $("photo-file").onchange = function () {
    var file = this.files && this.files[0];
    this.value = ""; // so that picking the same photo again is noticed
    if (!file) return;
    if (file.size > boot.image_max_bytes) {
      addBot(S.image_too_big, "warn"); // the server checks again; this saves the upload
      return;
    }
    setPhoto(file);
  };
  $("photo-remove").onclick = function () {
    clearPhoto(true);
    $("attach").focus();
  };

  function grow() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 140) + "px";
  }
  input.addEventListener("input", grow);
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      $("send").click();
    }
  });
  $("composer").onsubmit = function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text && !state.photo) { input.focus(); return; }
    input.value = "";
    grow();
    send(text);
  };

  $("login").onsubmit = function (e) {
    e.preventDefault();
    api("POST", "/api/login", { password: $("password").value }).then(function (r) {
      if (r.status === 200) { location.reload(); return; }
      addBot((r.data && r.data.text) || S.web_password_wrong, "error");
    });
  };

  // ---- start ----------------------------------------------------------------------------
  applyStrings();
  if (boot.password && !boot.authed) {
    $("login").hidden = false;
    addBot(S.web_password_prompt);
  } else {
    $("composer").hidden = false;
    loadHistory().then(connect, connect);
  }
})();
