/* Memory Box: small progressive enhancements. Every page works without this file. */
(function () {
  "use strict";

  /* The words this script says, in the page's language (the page carries them as JSON). */
  var WORDS = (function () {
    var found = document.querySelector("meta[name=script-words]");
    try { return found ? JSON.parse(found.getAttribute("content")) : {}; } catch (e) { return {}; }
  }());
  function say(key, values) {
    var text = WORDS[key] || "";
    return text.replace(/%\((\w+)\)s/g, function (_, name) {
      return values && name in values ? String(values[name]) : "";
    }).replace(/%%/g, "%");
  }
  /* A number as the page's language writes it. */
  function number(value, digits) {
    try {
      return Number(value).toLocaleString(document.documentElement.lang || undefined, { maximumFractionDigits: digits || 0 });
    } catch (e) { return String(value); }
  }

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  /* Invite links carry their code after "#", which never reaches the server or its logs. */
  function fillInviteCode() {
    var form = document.querySelector("[data-invite-form]");
    if (!form || !window.location.hash) return;
    var input = form.querySelector("input[name=token]");
    if (input && !input.value) input.value = decodeURIComponent(window.location.hash.slice(1));
    history.replaceState(null, "", window.location.pathname);
  }

  /* Ask before something that can't be undone. */
  function confirmForms() {
    /* On the document, so forms a "Show more" brings in ask too. */
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (!form.matches || !form.matches("form[data-confirm]")) return;
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  }

  /* "Show more": load the next page into the same lists, in place. Without script the link
     simply opens the next page. Focus moves to the first thing loaded, and a screen reader
     hears how many more are shown. */
  function showMore() {
    var status = null;
    function announce(text) {
      if (!status) {
        status = document.createElement("p");
        status.className = "visually-hidden";
        status.setAttribute("aria-live", "polite");
        document.body.appendChild(status);
      }
      status.textContent = text;
    }
    document.addEventListener("click", function (event) {
      var link = event.target.closest ? event.target.closest("a[data-show-more]") : null;
      if (!link || !window.fetch || !window.DOMParser) return;
      event.preventDefault();
      if (link.getAttribute("aria-busy") === "true") return;
      link.setAttribute("aria-busy", "true");
      var label = link.textContent;
      link.textContent = say("loading");
      fetch(link.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) {
          if (!response.ok) throw new Error("status " + response.status);
          return response.text();
        })
        .then(function (html) {
          var fetched = new DOMParser().parseFromString(html, "text/html");
          var firstNew = null;
          var added = 0;
          link.getAttribute("data-show-more").split(" ").forEach(function (id) {
            var here = document.getElementById(id);
            var there = fetched.getElementById(id);
            if (!here || !there) return;
            Array.prototype.slice.call(there.children).forEach(function (child) {
              var node = document.importNode(child, true);
              here.appendChild(node);
              if (!child.classList.contains("timeline__year")) added += 1;
              if (!firstNew) firstNew = node;
            });
          });
          var row = link.closest("[data-show-more-row]");
          var next = fetched.querySelector("a[data-show-more='" + link.getAttribute("data-show-more") + "']");
          if (row && next) row.replaceWith(document.importNode(next.closest("[data-show-more-row]"), true));
          else if (row) row.remove();
          var target = firstNew && firstNew.querySelector("a, button");
          if (target) target.focus();
          announce(added === 1 ? "1 more shown." : added + " more shown.");
        })
        .catch(function () {
          link.removeAttribute("aria-busy");
          link.textContent = label;
          window.location.href = link.href;
        });
    });
  }

  function selectOnFocus() {
    document.querySelectorAll("[data-select-on-focus]").forEach(function (input) {
      input.addEventListener("focus", function () { input.select(); });
    });
  }

  /* The limit in words. Rounded down, so a file that fits the words always fits the limit. */
  function formatSize(bytes) {
    var kb = 1024, mb = kb * 1024, gb = mb * 1024;
    if (bytes >= gb) return say("gb", { num: number(Math.floor((bytes / gb) * 10) / 10, 1) });
    if (bytes >= mb) return say("mb", { num: number(Math.floor(bytes / mb)) });
    if (bytes >= kb) return say("kb", { num: number(Math.floor(bytes / kb)) });
    return say("bytes", { num: number(bytes) });
  }

  /* Upload with a progress bar. Errors keep everything typed in the form. */
  function uploadWithProgress() {
    var form = document.querySelector("[data-upload-form]");
    if (!form || !window.XMLHttpRequest || !window.FormData) return;
    var box = form.querySelector("[data-upload-progress]");
    var bar = box.querySelector("progress");
    var text = form.querySelector("[data-upload-progress-text]");
    var error = form.querySelector("[data-upload-error]");
    var button = form.querySelector("button[type=submit]");
    var uploadField = form.querySelector("input[name=upload]");
    var csrf = form.querySelector("input[name=csrf_token]");
    var maxBytes = parseInt(form.getAttribute("data-max-bytes"), 10);
    var maxResumable = parseInt(form.getAttribute("data-max-resumable-bytes"), 10);
    var endpoint = form.getAttribute("data-resumable-endpoint");
    /* tus-js-client loads after this file, so look for it when it is needed. */
    function canResume() { return !!(window.tus && window.tus.isSupported && endpoint); }

    function showError(message) {
      error.textContent = message;
      error.hidden = false;
      box.hidden = true;
      button.disabled = false;
    }

    function showProgress(sent, total) {
      var percent = total ? Math.floor((sent / total) * 100) : 0;
      bar.value = percent;
      bar.textContent = percent + "%";
      text.textContent = percent < 100 ? say("sent", { percent: number(percent), sent: formatSize(sent), total: formatSize(total) }) : say("nearlyDone");
    }

    /* Send the words (and the file, unless it went up in resumable parts). */
    function sendForm(withFile) {
      var data = new FormData(form);
      if (!withFile) data.delete("file");
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      if (withFile) {
        xhr.upload.addEventListener("progress", function (e) {
          if (e.lengthComputable) showProgress(e.loaded, e.total);
        });
      }
      xhr.addEventListener("load", function () {
        var answer = null;
        try { answer = JSON.parse(xhr.responseText); } catch (e) { answer = null; }
        if (xhr.status >= 200 && xhr.status < 300 && answer && answer.redirect) {
          window.location.assign(answer.redirect);
        } else {
          uploadField.value = "";
          showError((answer && (answer.error || answer.message)) || say("didNotWork"));
        }
      });
      xhr.addEventListener("error", function () {
        showError(say("dropped"));
      });
      xhr.send(data);
    }

    /* Big files on poor connections: sent 64 MB at a time (the server keeps every 8 MB it
       has safely stored, so a dropped connection loses at most that), carrying on where they
       stopped, even after the page is closed (choose the same file again). */
    function sendResumable(file) {
      var upload = new window.tus.Upload(file, {
        endpoint: endpoint,
        chunkSize: 64 * 1024 * 1024,
        retryDelays: [0, 1000, 3000, 5000, 10000, 20000, 30000, 60000],
        metadata: { filename: file.name },
        headers: { "X-CSRFToken": csrf ? csrf.value : "" },
        removeFingerprintOnSuccess: true,
        onProgress: showProgress,
        onError: function () {
          showError(say("droppedResume"));
        },
        onSuccess: function () {
          uploadField.value = upload.url.split("/").pop();
          text.textContent = say("nearlyDone");
          sendForm(false);
        }
      });
      upload.findPreviousUploads().then(function (previous) {
        if (previous.length) {
          upload.resumeFromPreviousUpload(previous[0]);
          text.textContent = say("carryingOn");
        }
        upload.start();
      });
    }

    form.addEventListener("submit", function (event) {
      var fileInput = form.querySelector("input[type=file]");
      var file = fileInput && fileInput.files && fileInput.files[0];
      if (!file) return; /* let the server explain what is missing */
      event.preventDefault();
      error.hidden = true;
      var resumable = canResume();
      var limit = resumable ? maxResumable : maxBytes;
      if (limit && file.size > limit) {
        showError(say("tooBig", { size: formatSize(limit) }));
        return;
      }
      box.hidden = false;
      bar.value = 0;
      text.textContent = say("starting");
      button.disabled = true;
      if (resumable) sendResumable(file);
      else sendForm(true);
    });
  }

  /* Record a voice note or a short video straight from the page. The recording is put in
     the file box, so it is sent (and checked) exactly like a chosen file. */
  function recorder() {
    var panel = document.querySelector("[data-recorder]");
    if (!panel) return;
    var input = document.querySelector("[data-upload-form] input[type=file]");
    if (!window.MediaRecorder || !navigator.mediaDevices || !window.DataTransfer || !input) return;
    panel.hidden = false;
    var status = panel.querySelector("[data-recorder-status]");
    var stop = panel.querySelector("[data-recorder-stop]");
    var starts = panel.querySelectorAll("[data-record]");
    var chunks = [];
    var media = null;
    var stream = null;

    function pickType(video) {
      var options = video
        ? ["video/webm;codecs=vp8,opus", "video/webm", "video/mp4"]
        : ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/mp4", "audio/webm"];
      for (var i = 0; i < options.length; i++) {
        if (MediaRecorder.isTypeSupported(options[i])) return options[i];
      }
      return "";
    }

    function extensionFor(type) {
      if (type.indexOf("ogg") !== -1) return "ogg";
      if (type.indexOf("mp4") !== -1) return type.indexOf("audio") === 0 ? "m4a" : "mp4";
      return "webm";
    }

    starts.forEach(function (button) {
      button.addEventListener("click", function () {
        var video = button.getAttribute("data-record") === "video";
        navigator.mediaDevices.getUserMedia(video ? { audio: true, video: true } : { audio: true })
          .then(function (s) {
            stream = s;
            var type = pickType(video);
            media = type ? new MediaRecorder(stream, { mimeType: type }) : new MediaRecorder(stream);
            chunks = [];
            media.addEventListener("dataavailable", function (e) { if (e.data.size) chunks.push(e.data); });
            media.addEventListener("stop", function () {
              stream.getTracks().forEach(function (t) { t.stop(); });
              var blobType = media.mimeType || type || (video ? "video/webm" : "audio/webm");
              var name = (video ? "video-message." : "voice-note.") + extensionFor(blobType);
              var file = new File(chunks, name, { type: blobType.split(";")[0] });
              var transfer = new DataTransfer();
              transfer.items.add(file);
              input.files = transfer.files;
              status.textContent = say("recorded");
              stop.hidden = true;
              starts.forEach(function (b) { b.hidden = false; });
            });
            media.start(1000);
            status.textContent = video ? say("recordingVideo") : say("recording");
            stop.hidden = false;
            starts.forEach(function (b) { b.hidden = true; });
            stop.focus();
          })
          .catch(function () {
            status.textContent = say("noMicrophone");
          });
      });
    });
    stop.addEventListener("click", function () {
      if (media && media.state !== "inactive") media.stop();
    });
  }

  /* "Getting your video ready…": ask the server now and then, and show it when it's done. */
  function watchProcessing() {
    var box = document.querySelector("[data-processing]");
    if (!box || !window.fetch) return;
    var text = box.querySelector("[data-processing-text]");
    var url = box.getAttribute("data-status-url");
    var delay = 1500;
    function check() {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) return;
          if (data.ready) { window.location.reload(); return; }
          if (data.message && text.textContent !== data.message) text.textContent = data.message;
          if (data.state !== "failed") {
            delay = Math.min(delay * 1.5, 10000);
            window.setTimeout(check, delay);
          } else {
            var bar = box.querySelector("progress");
            if (bar) bar.remove();
          }
        })
        .catch(function () { window.setTimeout(check, 10000); });
    }
    window.setTimeout(check, delay);
  }

  /* My story: keep a draft every few seconds and when the box loses focus. The Save button
     still makes the real, saved version; without this script it works just the same. */
  function autosaveStory() {
    var status = document.querySelector("[data-autosave-url]");
    if (!status || !window.fetch || !window.FormData) return;
    var form = status.closest("form");
    var box = form && form.querySelector("textarea[name=body]");
    var csrf = form && form.querySelector("input[name=csrf_token]");
    if (!box) return;
    var url = status.getAttribute("data-autosave-url");
    var sent = box.value;
    var busy = false;
    var stopped = false;

    function save() {
      if (stopped || busy || box.value === sent) return;
      var text = box.value;
      var body = new FormData();
      body.append("body", text);
      busy = true;
      fetch(url, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrf ? csrf.value : "", Accept: "application/json" }
      })
        .then(function (r) { return r.json().then(function (data) { return { ok: r.ok, data: data }; }); })
        .then(function (result) {
          if (result.ok) sent = text;
          if (result.data && result.data.message) status.textContent = result.data.message;
        })
        .catch(function () {
          status.textContent = say("noDraft");
        })
        .then(function () { busy = false; });
    }

    box.addEventListener("blur", save);
    window.setInterval(save, 5000);
    form.addEventListener("submit", function () { stopped = true; });
  }

  /* Exports: show how far each one has got, and its download link when it is ready. */
  function watchExports() {
    if (!window.fetch) return;
    document.querySelectorAll("[data-export]").forEach(function (box) {
      var bar = box.querySelector("[data-export-bar]");
      if (!bar) return;
      var text = box.querySelector("[data-export-text]");
      var link = box.querySelector("[data-export-link]");
      var url = box.getAttribute("data-status-url");
      var delay = 1000;
      function check() {
        fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (data) {
            if (!data) return;
            bar.value = data.progress;
            bar.textContent = data.progress + "%";
            if (data.ready && data.download_url) {
              bar.remove();
              text.textContent = say("ready");
              link.querySelector("a").setAttribute("href", data.download_url);
              link.hidden = false;
            } else if (data.state === "failed") {
              bar.remove();
              text.textContent = data.error || say("couldNotMake");
            } else {
              text.textContent = say("beingMade", { percent: number(data.progress) });
              delay = Math.min(delay * 1.3, 8000);
              window.setTimeout(check, delay);
            }
          })
          .catch(function () { window.setTimeout(check, 10000); });
      }
      window.setTimeout(check, delay);
    });
  }

  /* "Read this to me": the browser's own speech (works offline), for a page or one part of a
     story. Pressing again, or Escape, stops it. Without speech in the browser the button
     stays hidden. What is read is the words on screen, not the buttons themselves. */
  function readAloud() {
    var buttons = document.querySelectorAll("[data-read-aloud]");
    if (!buttons.length || !window.speechSynthesis || !window.SpeechSynthesisUtterance) return;
    var speaking = null;
    function label(button, text) {
      var place = button.querySelector("[data-read-aloud-label]");
      if (place) place.textContent = text;
    }
    function reset() {
      if (!speaking) return;
      speaking.setAttribute("aria-pressed", "false");
      label(speaking, say("readAloud"));
      speaking = null;
    }
    function wordsOf(target) {
      var copy = target.cloneNode(true);
      copy.querySelectorAll("button, form, script, style, [hidden], [aria-hidden=true], .read-aloud")
        .forEach(function (node) { node.remove(); });
      return (copy.innerText || copy.textContent || "").replace(/\s+/g, " ").trim();
    }
    buttons.forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var again = speaking === button;
        window.speechSynthesis.cancel();
        reset();
        if (again) return;
        var target = document.querySelector(button.getAttribute("data-read-aloud"));
        if (!target) return;
        var words = new window.SpeechSynthesisUtterance(wordsOf(target));
        words.lang = document.documentElement.lang || "en-GB";
        words.rate = 0.9;
        words.onend = words.onerror = function () { if (speaking === button) reset(); };
        speaking = button;
        button.setAttribute("aria-pressed", "true");
        label(button, say("stopReading"));
        window.speechSynthesis.speak(words);
      });
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && speaking) { window.speechSynthesis.cancel(); reset(); }
    });
    window.addEventListener("pagehide", function () { window.speechSynthesis.cancel(); });
  }

  /* The young person's "More" menu (a details element, so it opens without script): Escape
     closes it and puts focus back on "More"; so does moving focus, or tapping, elsewhere. */
  function moreMenu() {
    var menu = document.querySelector("details.child-nav__more");
    if (!menu) return;
    var more = menu.querySelector("summary");
    menu.addEventListener("keydown", function (event) {
      if (event.key !== "Escape" || !menu.open) return;
      menu.open = false;
      more.focus();
    });
    menu.addEventListener("focusout", function (event) {
      if (menu.open && event.relatedTarget && !menu.contains(event.relatedTarget)) menu.open = false;
    });
    document.addEventListener("click", function (event) {
      if (menu.open && !menu.contains(event.target)) menu.open = false;
    });
  }

  ready(function () {
    moreMenu();
    watchExports();
    autosaveStory();
    watchProcessing();
    fillInviteCode();
    confirmForms();
    showMore();
    readAloud();
    selectOnFocus();
    uploadWithProgress();
    recorder();
  });
})();
