// vz-monitor serve: the live page. Redraws the watches from each frame of /live/events
// with the same markup the server draws (src/serve/pages/live.rs): keep the two alike.
// Every value goes in as text (textContent), never as markup.
"use strict";
(function () {
  var root = document.getElementById("live");
  var state = document.getElementById("live-state");
  if (!root || !window.EventSource) {
    return;
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) {
      e.className = cls;
    }
    if (text !== undefined && text !== null) {
      e.textContent = String(text);
    }
    return e;
  }

  function add(parent, children) {
    children.forEach(function (c) {
      parent.append(c);
    });
    return parent;
  }

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function span(ms) {
    ms = Math.max(0, ms);
    if (ms < 1000) return ms + "ms";
    if (ms < 60000) return (ms / 1000).toFixed(1) + "s";
    if (ms < 3600000) return Math.floor(ms / 60000) + "m " + pad(Math.floor(ms / 1000) % 60) + "s";
    return Math.floor(ms / 3600000) + "h " + pad(Math.floor(ms / 60000) % 60) + "m";
  }

  function when(ms) {
    var d = new Date(ms);
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + " " +
      pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds()) + "Z";
  }

  function badge(name) {
    switch (name) {
      case "healthy": case "finished": return "healthy";
      case "rollback": case "rolled_back": case "rollback_failed": return "rollback";
      case "inconclusive": case "abandoned": case "interrupted": return "inconclusive";
      case "running": return "running";
      default: return "other";
    }
  }

  function card(v) {
    var word = v.verdict || v.status;
    var a = el("article", "watch");
    a.dataset.runId = v.run_id;
    a.dataset.status = v.status;
    var link = el("a", null, "run " + v.run_id.slice(0, 8));
    link.href = "/runs/" + encodeURIComponent(v.run_id);
    var origin = "started " + when(v.started_at) + (v.actor ? " by " + v.actor : "") + (v.host ? " @ " + v.host : "");
    a.append(add(el("header"), [
      el("span", "badge verdict " + badge(word), word.toUpperCase()), " ",
      el("code", "deployment", v.deployment), " ", link, " ", el("span", "origin", origin)
    ]));
    var p = add(el("p", "progress"), ["tick ", el("b", "tick", v.tick), " of ", el("b", "planned", v.planned)]);
    if (v.time_left_ms !== null && v.time_left_ms !== undefined) {
      add(p, [" · ", el("span", "left", span(v.time_left_ms) + " left")]);
    }
    if (v.status === "abandoned") {
      add(p, [" · ", el("span", "abandoned", "abandoned: its runner stopped renewing its lease before a verdict")]);
    }
    a.append(p);
    if (v.hold) {
      a.append(el("p", "hold", v.hold));
    }
    if (v.rules.length) {
      var t = el("table", "rules");
      t.append(add(el("tr"), ["Rule", "Series", "Severity", "State", "Value"].map(function (h) { return el("th", null, h); })));
      v.rules.forEach(function (r) {
        var tr = add(el("tr"), [
          el("td", null, r.rule), el("td", null, r.series), el("td", null, r.severity),
          el("td", r.fired ? "state fired" : "state", r.state), el("td", "value", r.value)
        ]);
        tr.dataset.rule = r.rule;
        tr.dataset.series = r.series;
        t.append(tr);
      });
      a.append(t);
    }
    if (v.missing.length) {
      var m = el("p", "missing", "missing ticks: ");
      v.missing.forEach(function (x, i) {
        if (i > 0) m.append(" · ");
        var s = el("span", null, x.metric + " " + x.missing + "/" + x.ticks + " (max " + x.max_missing + " %)");
        s.dataset.metric = x.metric;
        m.append(s);
      });
      a.append(m);
    }
    if (v.counters.length) {
      var c = el("p", "counters", "policy: ");
      v.counters.forEach(function (x, i) {
        if (i > 0) c.append(" · ");
        var s = el("span", null, x.severity + " " + x.fired + "/" + (x.limit === 0 ? "off" : x.limit));
        s.dataset.severity = x.severity;
        c.append(s);
      });
      a.append(c);
    }
    v.reasons.forEach(function (r) {
      a.append(el("p", "reason", r));
    });
    return a;
  }

  function render(frame) {
    var cards = frame.runs.map(card);
    if (!cards.length) {
      cards = [el("p", "empty", "No watch in progress or ended in the last 15 minutes.")];
    }
    root.replaceChildren.apply(root, cards);
    root.dataset.at = String(frame.at);
  }

  function say(text, down) {
    if (state) {
      state.textContent = text;
      state.className = down ? "state down" : "state";
    }
  }

  var source = new EventSource("/live/events");
  source.addEventListener("live", function (e) {
    var frame;
    try {
      frame = JSON.parse(e.data);
    } catch (err) {
      say("an update could not be read", true);
      return;
    }
    render(frame);
    say("live: read at " + when(frame.at), false);
  });
  source.addEventListener("unavailable", function (e) {
    say("store unavailable: " + e.data + " (retrying)", true);
  });
  source.onerror = function () {
    say("connection to the dashboard lost; reconnecting…", true);
  };
})();
