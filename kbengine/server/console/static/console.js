/* kbengine agent console: search as you type, keys for the walk, live checks of inputs, copying the
   hand-over. Everything here is an extra: every form also works by posting without JavaScript. */
(function () {
  "use strict";

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }

  /* ---- keys: 1-9 answer, b back, n note, / search ---- */
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    if (event.key === "/") {
      var search = document.getElementById("q");
      if (search) { event.preventDefault(); search.focus(); search.select(); }
      return;
    }
    if (event.key === "n") {
      var note = document.getElementById("note");
      if (note) { event.preventDefault(); note.focus(); }
      return;
    }
    var button = document.querySelector('button[data-key="' + CSS.escape(event.key) + '"]');
    if (button) { event.preventDefault(); button.click(); }
  });

  /* ---- posting: once per page (a second key press must not answer the next question too), and
     not while offline (the call is kept; the agent tries again when the network is back) ---- */
  var sent = false;
  var offline = document.querySelector("[data-offline]");
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if ((form.getAttribute("method") || "get").toLowerCase() !== "post") return;
    if (sent) { event.preventDefault(); return; }
    if (navigator.onLine === false) {
      event.preventDefault();
      if (offline) offline.textContent = offline.getAttribute("data-offline");
      return;
    }
    sent = true;
  });
  window.addEventListener("pageshow", function () { sent = false; });  /* back to a page kept in memory */

  /* ---- search as you type ---- */
  var form = document.querySelector("form[data-search]");
  var box = document.getElementById("q");
  var results = document.getElementById("results");
  if (form && box && results) {
    var timer = null, asked = 0;
    box.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var mine = ++asked;
        var url = new URL(form.getAttribute("action"), location.href);
        url.searchParams.set("q", box.value);
        var shown = new URL(url.href);
        url.searchParams.set("partial", "1");
        var here = new URL(location.href);
        var article = here.searchParams.get("article");
        if (article) { shown.searchParams.set("article", article); }
        fetch(url.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
          .then(function (response) { return response.ok ? response.text() : null; })
          .then(function (html) {
            if (html === null || mine !== asked) return;
            results.innerHTML = html;
            history.replaceState(null, "", shown.pathname + shown.search);
          })
          .catch(function () { /* offline: Enter still submits the form */ });
      }, 180);
    });
  }

  /* ---- inputs at an escalation: checked as they are typed, the expected form in words ---- */
  document.querySelectorAll("input[data-pattern]").forEach(function (input) {
    var pattern;
    try { pattern = new RegExp("^(?:" + input.getAttribute("data-pattern").replace(/^\^/, "").replace(/\$$/, "") + ")$"); }
    catch (e) { return; /* a pattern JavaScript cannot read: the server still checks it */ }
    var check = document.getElementById("check-" + input.name);
    function show() {
      var value = input.value.trim();
      if (!value) { input.removeAttribute("aria-invalid"); if (check) { check.textContent = ""; check.className = "check"; } return; }
      var fits = pattern.test(value);
      input.setAttribute("aria-invalid", fits ? "false" : "true");
      if (check) {
        check.textContent = check.getAttribute(fits ? "data-right" : "data-wrong");
        check.className = "check " + (fits ? "right" : "wrong");
      }
    }
    input.addEventListener("input", show);
    show();
  });

  /* ---- copying the hand-over ---- */
  var status = document.querySelector("[data-copied]");
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-copy"));
      if (!source) return;
      function done(ok) {
        if (status) status.textContent = status.getAttribute(ok ? "data-copied" : "data-copy-failed");
        if (!ok) { source.focus(); source.select(); }
      }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(source.value).then(function () { done(true); }, function () { done(false); });
      } else {
        source.focus(); source.select();
        var ok = false;
        try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
        done(ok);
      }
    });
  });

  /* ---- after an answer, the step is where the eye and the keyboard are ---- */
  var problem = document.getElementById("problem");
  var invalid = document.querySelector(".collect input[aria-invalid=true]");
  var heading = document.getElementById("step-title");
  if (problem && invalid) invalid.focus();
  else if (location.hash === "#article") { var panel = document.getElementById("article"); if (panel) panel.focus(); }
  else if (heading && !document.getElementById("q").value) heading.focus({ preventScroll: true });
})();
