/* kbengine help centre: live search, the troubleshooter path, prefilled contact links.
   Everything here is an extra: every page works without it. */
(function () {
  "use strict";
  var base = document.body.getAttribute("data-base") || "/";
  var KEY = "kb-path";

  /* ---- search: results as you type (Pagefind), the form goes to the search page ---- */
  var pagefind = null;
  function loadPagefind() {
    if (!pagefind) {
      pagefind = import(base + "pagefind/pagefind.js").then(function (pf) {
        return pf.options({ baseUrl: base }).then(function () { return pf; });
      });
    }
    return pagefind;
  }
  function escapeHtml(text) {
    return String(text).replace(/[&<>"]/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c];
    });
  }
  document.querySelectorAll("form.search-form").forEach(function (form) {
    var input = form.querySelector("input");
    var box = form.querySelector(".live-results");
    form.action = form.getAttribute("data-search-url");
    var hide = function () { box.hidden = true; };
    input.addEventListener("input", function () {
      var query = input.value.trim();
      if (query.length < 2) { hide(); return; }
      loadPagefind().then(function (pf) { return pf.debouncedSearch(query, {}, 250); })
        .then(function (search) {
          if (!search || input.value.trim() !== query) return null;
          return Promise.all(search.results.slice(0, 6).map(function (r) { return r.data(); }));
        })
        .then(function (items) {
          if (items === null || items === undefined) return;
          box.innerHTML = items.length ? "<ul>" + items.map(function (item) {
            return '<li><a href="' + escapeHtml(item.url) + '"><strong>' + escapeHtml(item.meta.title || item.url) +
              "</strong><span>" + item.excerpt + "</span></a></li>";
          }).join("") + "</ul>" : "<p>" + escapeHtml(form.getAttribute("data-none") || "—") + "</p>";
          box.hidden = false;
        })
        .catch(function () { hide(); });
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Escape") hide();
      if (event.key === "ArrowDown" && !box.hidden) {
        var first = box.querySelector("a");
        if (first) { event.preventDefault(); first.focus(); }
      }
    });
    box.addEventListener("keydown", function (event) {
      var links = Array.prototype.slice.call(box.querySelectorAll("a"));
      var at = links.indexOf(document.activeElement);
      if (event.key === "ArrowDown" && at < links.length - 1) { event.preventDefault(); links[at + 1].focus(); }
      if (event.key === "ArrowUp") { event.preventDefault(); (at > 0 ? links[at - 1] : input).focus(); }
      if (event.key === "Escape") { hide(); input.focus(); }
    });
    document.addEventListener("click", function (event) { if (!form.contains(event.target)) hide(); });
  });

  /* searches that find nothing go to the writers (kb report content), only when kb.yaml has server_url;
     sent once the reader has stopped typing, without anything else about them */
  var feedbackUrl = document.body.getAttribute("data-feedback");
  var quiet = null;
  function reportNothingFound(term) {
    if (!feedbackUrl || !navigator.sendBeacon) return;
    clearTimeout(quiet);
    quiet = setTimeout(function () {
      term = (term || "").trim();
      if (term.length < 3) return;
      loadPagefind().then(function (pf) { return pf.search(term); }).then(function (found) {
        if (found && found.results.length === 0) {
          navigator.sendBeacon(feedbackUrl, new URLSearchParams({ kind: "search", query: term }));
        }
      }).catch(function () { /* no search index: nothing to report */ });
    }, 2000);
  }

  var searchUi = document.getElementById("search-ui");
  if (searchUi && window.PagefindUI) {
    var ui = new window.PagefindUI({ element: "#search-ui", showSubResults: true, showImages: false,
      baseUrl: base, bundlePath: base + "pagefind/", autofocus: true,
      processTerm: function (term) { reportNothingFound(term); return term; } });
    var query = new URLSearchParams(location.search).get("q");
    if (query) ui.triggerSearch(query);
  }

  /* ---- troubleshooters: remember the path taken in this tab ---- */
  var step = document.querySelector("[data-step]");
  if (!step) return;
  function load() {
    try { return JSON.parse(sessionStorage.getItem(KEY)) || []; } catch (e) { return []; }
  }
  function save(steps) {
    try { sessionStorage.setItem(KEY, JSON.stringify(steps)); } catch (e) { /* private mode: no path */ }
  }
  var here = location.pathname;
  var current = step.getAttribute("data-step");
  var steps = load();
  var last = steps[steps.length - 1];
  if (last && last.to === here) {
    /* arrived by an answer: keep the path */
  } else {
    var seen = steps.map(function (s) { return s.step; }).indexOf(current);
    steps = seen >= 0 ? steps.slice(0, seen) : [];  /* went back, or started afresh */
  }
  save(steps);

  /* answers hidden by `when` guards are left out of the page itself: each set of facts
     has its own page, so there is nothing to hide here */
  step.querySelectorAll("a.answer").forEach(function (link) {
    link.addEventListener("click", function () {
      save(steps.concat([{ step: current, prompt: step.getAttribute("data-prompt"),
        answer: link.getAttribute("data-answer"), to: new URL(link.href, location.href).pathname }]));
    });
  });
  var restart = document.querySelector("[data-restart]");
  if (restart) restart.addEventListener("click", function () { save([]); });

  var lines = steps.map(function (s) { return s.answer ? s.prompt + " - " + s.answer : s.prompt; });
  var pathBox = document.querySelector("[data-path]");
  if (pathBox && lines.length) {
    pathBox.querySelector("ol").innerHTML = steps.map(function (s) {
      return "<li>" + escapeHtml(s.prompt) + " <b>" + escapeHtml(s.answer || "") + "</b></li>";
    }).join("");
    pathBox.hidden = false;
  }

  /* ---- the contact panel carries the path (same layout as kbengine/site/contact.py) ---- */
  var panel = document.querySelector(".contact[data-track-path]");
  if (!panel || !lines.length) return;
  var data = function (name) { return panel.getAttribute("data-" + name) || ""; };
  var summary = data("summary");
  var body = [summary, data("path-label") + ":\n" + lines.map(function (line, i) {
    return (i + 1) + ". " + line;
  }).join("\n"), new URL(data("page"), location.href).href].filter(Boolean).join("\n\n");
  var mail = panel.querySelector('[data-contact="mail"]');
  if (mail) {
    mail.href = "mailto:" + data("email") + "?subject=" + encodeURIComponent(data("subject")) +
      "&body=" + encodeURIComponent(body);
  }
  var ticket = panel.querySelector('[data-contact="ticket"]');
  if (ticket) {
    var fill = { title: data("subject"), summary: summary || data("subject"), path: lines.join(" / ") };
    ticket.href = Object.keys(fill).reduce(function (url, name) {
      return url.split("{" + name + "}").join(encodeURIComponent(fill[name]));
    }, data("ticket"));
  }
})();
