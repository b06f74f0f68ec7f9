/* kbengine help centre: live search, the troubleshooter path, prefilled contact links.
   Everything here is an extra: every page works without it. */
(function () {
  "use strict";
  var base = document.body.getAttribute("data-base") || "/";
  var KEY = "kb-path";

  /* ---- search (Pagefind): results as you type, the search page, kbSearch for tests and tools ---- */
  var pagefind = null;
  function loadPagefind() {
    if (!pagefind) {
      pagefind = import(base + "pagefind/pagefind.js").then(function (pf) {
        /* chosen on the tune half of benchmarks/relevance (docs/search.md): the title is the page's
           h1 (weight 7) already, so Pagefind's own 5x title boost counted it twice; and a short page
           that holds the words is more often the answer than a long one that mentions them */
        return pf.options({ baseUrl: base, ranking: { metaWeights: { title: 2 }, pageLength: 0.9 } })
          .then(function () { return pf; });
      });
    }
    return pagefind;
  }
  /* Stop words, caller words and synonyms per language, written beside the index by kb build (the
     lists kb search uses): a question is not a list of words that must all be on the page. */
  var queryWords = null;
  function loadQueryWords() {
    if (!queryWords) {
      queryWords = fetch(base + "pagefind/kb-query-words.json")
        .then(function (response) { return response.ok ? response.json() : {}; })
        .catch(function () { return {}; });
    }
    return queryWords;
  }
  var COORDINATION = 1;  /* a page holding half the words of a question keeps half its score */
  function bareWord(word) { return word.replace(/[^\p{L}\p{N}]/gu, ""); }
  /* The other phrases of the synonym groups a word belongs to: as typed, or with an ending of at
     most maxEnding letters added to a group's one-word phrase (grafieken: grafiek, diagram). */
  function synonymsOf(bare, groups, maxEnding) {
    var found = [];
    groups.forEach(function (group) {
      var member = group.some(function (phrase) {
        var p = phrase.toLocaleLowerCase();
        return p === bare || (p.length >= 3 && p.indexOf(" ") < 0 && bare.indexOf(p) === 0 &&
                              bare.length - p.length <= maxEnding);
      });
      if (!member) return;
      group.forEach(function (phrase) {
        var p = phrase.toLocaleLowerCase();
        if (p !== bare && found.indexOf(p) < 0) found.push(p);
      });
    });
    return found;
  }
  /* Pagefind finds only the pages that hold every word of a query, so a question typed as people
     talk finds nothing. Each word (and each of its synonyms, weighed less) is asked on its own and
     the pages are ranked by their summed scores times the share of the question's words they
     hold; stop words are left out and caller words ("cant", "keeps") weigh less. A quoted phrase
     goes to Pagefind as typed. */
  function rankedSearch(query) {
    query = query.trim();
    return Promise.all([loadPagefind(), loadQueryWords()]).then(function (loaded) {
      var pf = loaded[0], lists = loaded[1][document.documentElement.lang] || {};
      var stop = lists.stop || [], caller = lists.caller || [], callerWeight = lists.caller_weight || 1;
      var groups = lists.synonyms || [], synonymWeight = lists.synonym_weight || 1;
      var words = [];
      query.toLocaleLowerCase().split(/\s+/).forEach(function (word) {
        var bare = bareWord(word);
        if (bare.length > 1 && stop.indexOf(bare) < 0 && words.indexOf(word) < 0) words.push(word);
      });
      var asks = [];  /* what is sent to Pagefind: the text, the question word it stands for, its weight */
      words.forEach(function (word, slot) {
        var bare = bareWord(word), weight = caller.indexOf(bare) < 0 ? 1 : callerWeight;
        asks.push({ text: word, slot: slot, weight: weight });
        synonymsOf(bare, groups, lists.max_ending || 0).forEach(function (other) {
          asks.push({ text: other, slot: slot, weight: weight * synonymWeight });
        });
      });
      var quoted = /^\s*".+"\s*$/.test(query);
      if (quoted || !words.length || asks.length < 2) {
        /* "how do i print": only "print" has to be on the page; a query of stop words is asked whole */
        return pf.search(quoted || !words.length ? query : words[0])
          .then(function (found) { return found.results; });
      }
      return Promise.all(asks.map(function (ask) { return pf.search(ask.text); })).then(function (searches) {
        var pages = {}, total = 0, weights = [];
        asks.forEach(function (ask) {
          if (weights[ask.slot] === undefined) { weights[ask.slot] = ask.weight; total += ask.weight; }
        });
        searches.forEach(function (found, at) {
          var ask = asks[at];
          found.results.forEach(function (result) {
            var page = pages[result.id] || (pages[result.id] = { result: result, slots: {} });
            /* a word counts once, by its best match: the word itself or one of its synonyms */
            page.slots[ask.slot] = Math.max(page.slots[ask.slot] || 0, ask.weight * result.score);
          });
        });
        return Object.keys(pages).map(function (id) {
          var page = pages[id], score = 0, held = 0;
          Object.keys(page.slots).forEach(function (slot) {
            score += page.slots[slot];
            held += weights[slot];
          });
          return { result: page.result, rank: score * Math.pow(held / total, COORDINATION) };
        }).sort(function (a, b) { return b.rank - a.rank; }).map(function (page) { return page.result; });
      });
    });
  }
  window.kbSearch = function (query, limit) {
    return rankedSearch(query).then(function (results) {
      return Promise.all(results.slice(0, limit || 10).map(function (r) { return r.data(); }));
    });
  };
  function escapeHtml(text) {
    return String(text).replace(/[&<>"]/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c];
    });
  }
  function resultList(items) {
    return "<ul>" + items.map(function (item) {
      return '<li><a href="' + escapeHtml(item.url) + '"><strong>' + escapeHtml(item.meta.title || item.url) +
        "</strong><span>" + item.excerpt + "</span></a></li>";
    }).join("") + "</ul>";
  }
  var searchPage = document.getElementById("search-ui");
  document.querySelectorAll("form.search-form").forEach(function (form) {
    var input = form.querySelector("input");
    var onPage = searchPage && searchPage.contains(form);
    var box = onPage ? document.getElementById("search-results") : form.querySelector(".live-results");
    var limit = onPage ? 20 : 6;
    form.action = form.getAttribute("data-search-url");
    var hide = function () { if (!onPage) box.hidden = true; };
    var waiting = null;
    function show(query) {
      rankedSearch(query).then(function (results) {
        if (input.value.trim() !== query) return null;
        if (onPage) noteFound(query, results.length);
        return Promise.all(results.slice(0, limit).map(function (r) { return r.data(); }));
      }).then(function (items) {
        if (items === null || items === undefined || input.value.trim() !== query) return;
        box.innerHTML = items.length ? resultList(items)
          : "<p>" + escapeHtml(form.getAttribute("data-none") || "—") + "</p>";
        box.hidden = false;
      }).catch(function () { hide(); });
    }
    input.addEventListener("input", function () {
      var query = input.value.trim();
      clearTimeout(waiting);
      if (query.length < 2) { hide(); return; }
      waiting = setTimeout(function () { show(query); }, 250);
    });
    if (onPage) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        clearTimeout(waiting);
        var query = input.value.trim();
        history.replaceState(null, "", "?q=" + encodeURIComponent(query));
        if (query) show(query);
      });
      var asked = new URLSearchParams(location.search).get("q");
      if (asked) { input.value = asked; show(asked.trim()); }
      input.focus();
      return;
    }
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
  function noteFound(term, count) {
    clearTimeout(quiet);
    if (!feedbackUrl || !navigator.sendBeacon || count > 0 || term.length < 3) return;
    quiet = setTimeout(function () {
      navigator.sendBeacon(feedbackUrl, new URLSearchParams({ kind: "search", query: term }));
    }, 2000);
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
        answer: link.getAttribute("data-answer"), number: link.getAttribute("data-number"),
        first: step.hasAttribute("data-first"), to: new URL(link.href, location.href).pathname }]));
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
  /* the path as the desk's agent console continues it: the tree, then each answer's number */
  var reference = steps[0].first && steps.every(function (s) { return s.number; }) ?
    steps[0].step.split("#")[0] + ":" + steps.map(function (s) { return s.number; }).join(".") : "";
  var page = new URL(data("page"), location.href);
  if (reference) page.searchParams.set("kb-path", reference);
  var body = [summary, data("path-label") + ":\n" + lines.map(function (line, i) {
    return (i + 1) + ". " + line;
  }).join("\n"), reference ? data("reference-label") + ": " + reference : "", page.href]
    .filter(Boolean).join("\n\n");
  var mail = panel.querySelector('[data-contact="mail"]');
  if (mail) {
    mail.href = "mailto:" + data("email") + "?subject=" + encodeURIComponent(data("subject")) +
      "&body=" + encodeURIComponent(body);
  }
  var ticket = panel.querySelector('[data-contact="ticket"]');
  if (ticket) {
    var fill = { title: data("subject"), summary: summary || data("subject"),
      path: lines.join(" / ") + (reference ? " (kb-path=" + reference + ")" : "") };
    ticket.href = Object.keys(fill).reduce(function (url, name) {
      return url.split("{" + name + "}").join(encodeURIComponent(fill[name]));
    }, data("ticket"));
  }
})();
