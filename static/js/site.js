/* Memory Box: small progressive enhancements. Every page works without this file. */
(function () {
  "use strict";

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
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
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
    if (bytes >= gb) return (Math.floor((bytes / gb) * 10) / 10) + " GB";
    if (bytes >= mb) return Math.floor(bytes / mb) + " MB";
    if (bytes >= kb) return Math.floor(bytes / kb) + " KB";
    return bytes + " bytes";
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
    var maxBytes = parseInt(form.getAttribute("data-max-bytes"), 10);

    function showError(message) {
      error.textContent = message;
      error.hidden = false;
      box.hidden = true;
      button.disabled = false;
    }

    form.addEventListener("submit", function (event) {
      var fileInput = form.querySelector("input[type=file]");
      var file = fileInput && fileInput.files && fileInput.files[0];
      if (!file) return; /* let the server explain what is missing */
      event.preventDefault();
      error.hidden = true;
      if (maxBytes && file.size > maxBytes) {
        showError("That file is too big. The biggest file you can add is " + formatSize(maxBytes) + ".");
        return;
      }
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable) return;
        var percent = Math.round((e.loaded / e.total) * 100);
        bar.value = percent;
        bar.textContent = percent + "%";
        text.textContent = percent < 100 ? percent + "% sent" : "Nearly done…";
      });
      xhr.addEventListener("load", function () {
        var data = null;
        try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
        if (xhr.status >= 200 && xhr.status < 300 && data && data.redirect) {
          window.location.assign(data.redirect);
        } else {
          showError((data && (data.error || data.message)) || "That didn't work. Please try again.");
        }
      });
      xhr.addEventListener("error", function () {
        showError("The connection dropped. Please check your internet and try again.");
      });
      box.hidden = false;
      bar.value = 0;
      text.textContent = "Starting…";
      button.disabled = true;
      xhr.send(new FormData(form));
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

  ready(function () {
    watchProcessing();
    fillInviteCode();
    confirmForms();
    selectOnFocus();
    uploadWithProgress();
  });
})();
