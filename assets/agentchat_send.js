// AgentChat: your message is on screen the moment you send it.
// Sending goes through the app's server (the outbox there marks it "sending", then the echo
// confirms it); that round trip takes a moment.  So on submit the words are drawn here at once,
// as plain text in #local-echo under the log, and each is taken away as soon as the app's own
// copy of a new message (a `pending-…` entry) is on the page, oldest first.  If the app shows an
// error instead (nothing was sent), every local copy goes.  No user text becomes HTML here.
(function () {
  "use strict";
  var shown = [];          // local copies, oldest first
  var known = {};          // ids of the app's pending entries already accounted for
  var watched = null;      // the log element being observed (a new page draws a new one)
  var STALE_MS = 15000;    // a copy the app never took over (it refused the send) goes anyway

  function log() { return document.getElementById("message-log"); }
  function holder() { return document.getElementById("local-echo"); }

  function remember() {
    var root = log();
    if (!root) { return []; }
    var fresh = [];
    root.querySelectorAll(".message[id^='pending-']").forEach(function (el) {
      if (!known[el.id]) { known[el.id] = true; fresh.push(el.id); }
    });
    return fresh;
  }

  function drop(copy) {
    var i = shown.indexOf(copy);
    if (i >= 0) { shown.splice(i, 1); }
    if (copy.parentNode) { copy.parentNode.removeChild(copy); }
  }

  function settle() {
    remember().forEach(function () { if (shown.length) { drop(shown[0]); } });
    if (document.getElementById("composer-error")) { shown.slice().forEach(drop); }
  }

  function watch() {
    var root = log();
    if (!root || root === watched) { return; }
    watched = root;
    remember();  // entries already on the page are not answers to what is sent next
    new MutationObserver(settle).observe(root, { childList: true, subtree: true, attributes: true,
                                                 attributeFilter: ["id"] });
  }

  function draw(text) {
    var place = holder();
    if (!place) { return; }
    var copy = document.createElement("div");
    copy.className = "local-echo-item";  // not a `.message`: not in the log's keyboard order
    var who = document.createElement("div");
    who.className = "local-echo-sender";
    who.textContent = window.agentchatMe || "You";
    var words = document.createElement("div");
    words.className = "local-echo-text";
    words.textContent = text;
    var state = document.createElement("div");
    state.className = "local-echo-state";
    state.textContent = "Sending…";
    copy.appendChild(who);
    copy.appendChild(words);
    copy.appendChild(state);
    place.appendChild(copy);
    shown.push(copy);
    setTimeout(function () { drop(copy); }, STALE_MS);
    var root = log();
    if (root) { root.scrollTop = root.scrollHeight; }
  }

  document.addEventListener("submit", function (e) {
    var form = e.target;
    var box = form && form.querySelector ? form.querySelector("#composer") : null;
    if (!box) { return; }
    watch();
    var text = (box.value || "").replace(/\s+$/, "");
    if (text.trim()) { draw(text); }
  }, true);
})();
