// AgentChat keyboard and reading helpers (no user text is ever turned into HTML here).
// - the composer has focus on load; the skip link focuses it;
// - Escape cancels a reply (dialogs close themselves: Radix);
// - Up in an empty composer edits your last message (its own Edit action, so the same rules hold);
// - the mention list: ArrowUp/ArrowDown choose, Enter or Tab take, instead of sending "@bo";
// - the message list is one tab stop: arrow keys (and Home/End) move between messages; a
//   message's own controls are reachable with Tab only while that message has focus;
// - "Jump to latest" appears when messages arrive while the reader is scrolled up;
// - the newest message the reader has seen is remembered per person (the "New messages" line).
(function () {
  "use strict";
  var FOCUSABLE = "a[href], button, summary, input, textarea, select, [tabindex]:not(.message)";
  var pinned = true;
  var active = 0;

  function composer() { return document.getElementById("composer"); }
  function log() { return document.getElementById("message-log"); }
  function looking() { return document.visibilityState === "visible" && document.hasFocus(); }

  // --- mention suggestions -----------------------------------------------------------------
  function options() {
    return Array.prototype.slice.call(document.querySelectorAll(".mention-suggestion"));
  }
  function showActive(list) {
    list.forEach(function (el, i) {
      el.setAttribute("aria-selected", i === active ? "true" : "false");
      el.classList.toggle("active", i === active);
    });
    var box = composer();
    if (box && list[active] && list[active].id) { box.setAttribute("aria-activedescendant", list[active].id); }
  }

  function onComposerKey(event) {
    var list = options();
    if (list.length) {
      if (active >= list.length) { active = 0; }
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        active = (active + (event.key === "ArrowDown" ? 1 : list.length - 1)) % list.length;
        showActive(list);
      } else if ((event.key === "Enter" && !event.shiftKey) || event.key === "Tab") {
        var typed = /(?:^|\s)@([A-Za-z0-9_-]*)$/.exec(composer() ? composer().value : "");
        if (event.key === "Enter" && typed && "@" + typed[1] === list[active].textContent) {
          return;  // the whole name is typed already: Enter sends, as it would without the list
        }
        list[active].click();
        active = 0;
      } else { return; }
      event.preventDefault();
      event.stopPropagation();
      return;
    }
    if (event.key === "ArrowUp" && !event.shiftKey && !event.altKey && !event.ctrlKey && !event.metaKey) {
      var box = composer();
      var edits = document.querySelectorAll("#message-log .message button[aria-label='Edit message']");
      if (box && box.value === "" && edits.length) {
        edits[edits.length - 1].click();
        event.preventDefault();
        event.stopPropagation();
      }
      return;
    }
    if (event.key === "Escape") {
      var cancel = document.querySelector("#reply-banner [aria-label='Cancel reply']");
      if (cancel) { cancel.click(); event.preventDefault(); event.stopPropagation(); }
    }
  }

  // --- the message list: one tab stop, arrow keys inside -------------------------------------
  function messages() {
    var root = log();
    return root ? Array.prototype.slice.call(root.querySelectorAll(".message")) : [];
  }
  function quiet(root) { quietMessages(root.querySelectorAll(".message")); }
  function quietMessages(list) {
    // Controls inside messages are not tab stops, except in the message that has focus.
    var current = document.activeElement && document.activeElement.closest
      ? document.activeElement.closest(".message") : null;
    list.forEach(function (msg) {
      var stop = msg === current ? "0" : "-1";
      msg.querySelectorAll(FOCUSABLE).forEach(function (el) {
        if (el.getAttribute("tabindex") !== stop) { el.setAttribute("tabindex", stop); }
      });
    });
  }
  function touchedMessages(mutations) {
    // The messages React drew or changed: only their controls can have become tab stops.
    var found = new Set();
    mutations.forEach(function (m) {
      m.addedNodes.forEach(function (n) {
        if (n.nodeType !== 1) { return; }
        var own = n.closest(".message");
        if (own) { found.add(own); }
        n.querySelectorAll(".message").forEach(function (msg) { found.add(msg); });
      });
    });
    return found;
  }
  function onLogKey(event) {
    var keys = ["ArrowUp", "ArrowDown", "Home", "End"];
    if (keys.indexOf(event.key) < 0) { return; }
    var target = event.target;
    var here = target.classList && target.classList.contains("message") ? target : null;
    if (!here && target !== log()) { return; }  // inside a control: leave its keys alone
    var list = messages();
    if (!list.length) { return; }
    var index = here ? list.indexOf(here) : list.length;
    if (event.key === "ArrowUp") { index = Math.max(0, index - 1); }
    else if (event.key === "ArrowDown") { index = Math.min(list.length - 1, here ? index + 1 : list.length - 1); }
    else if (event.key === "Home") { index = 0; }
    else { index = list.length - 1; }
    list[index].focus();
    list[index].scrollIntoView({ block: "nearest" });
    event.preventDefault();
  }

  // --- jump to latest, last read -----------------------------------------------------------
  function pane() { var root = log(); return root ? root.parentElement : null; }
  function newestId() {
    var list = document.querySelectorAll("#message-log .message[id^='msg-']");
    var last = list.length ? list[list.length - 1] : null;
    return last ? Number(last.id.slice(4)) || 0 : 0;
  }
  function noteRead() {
    if (!pinned || !looking() || !window.agentchatMe) { return; }
    var key = "agentchat-last-read:" + window.agentchatMe;
    var newest = newestId();
    if (newest > (Number(localStorage.getItem(key)) || 0)) { localStorage.setItem(key, String(newest)); }
  }
  window.agentchatJumpToLatest = function () {
    var root = log();
    if (!root) { return; }
    root.scrollTop = root.scrollHeight;
    pinned = true;
    var p = pane();
    if (p) { p.removeAttribute("data-behind"); }
    var list = messages();
    if (list.length) { list[list.length - 1].focus({ preventScroll: true }); }
  };

  function attach(root) {
    if (root.__agentchatKeys) { return; }
    root.__agentchatKeys = true;
    var seen = newestId();
    root.addEventListener("keydown", onLogKey);
    root.addEventListener("focusin", function () { quiet(root); });
    root.addEventListener("focusout", function () { setTimeout(function () { quiet(root); }, 0); });
    root.addEventListener("scroll", function () {
      pinned = root.scrollHeight - root.scrollTop - root.clientHeight < 80;
      if (pinned) { var p = pane(); if (p) { p.removeAttribute("data-behind"); } noteRead(); }
    });
    new MutationObserver(function (mutations) {
      quietMessages(touchedMessages(mutations));
      var newest = newestId();
      if (newest > seen) {
        seen = newest;
        var p = pane();
        if (!pinned && p) { p.setAttribute("data-behind", "true"); }
        noteRead();
      }
    }).observe(root, { childList: true, subtree: true });
    quiet(root);
  }

  function focusComposerOnce() {
    var box = composer();
    if (box && !box.__agentchatFocused) {
      box.__agentchatFocused = true;
      var a = document.activeElement;
      if (!a || a === document.body || a === document.documentElement) { box.focus(); }
    }
  }

  var shownOptions = null;
  function syncOptions() {
    var list = options();
    if (list.length && list[0] !== shownOptions) { shownOptions = list[0]; active = 0; showActive(list); }
    if (!list.length && shownOptions) {
      shownOptions = null;
      var box = composer();
      if (box) { box.removeAttribute("aria-activedescendant"); }
    }
  }

  function labelFileInputs() {
    // The upload's file input (react-dropzone) is invisible and out of the tab order; the
    // visible "Attach" button opens it, so it is hidden from assistive technology too.
    document.querySelectorAll("input[type=file][tabindex='-1']:not([aria-hidden])").forEach(function (el) {
      el.setAttribute("aria-hidden", "true");
    });
  }

  new MutationObserver(function () {
    var root = log();
    if (root) { attach(root); }
    labelFileInputs();
    focusComposerOnce();
    syncOptions();
  }).observe(document.documentElement, { childList: true, subtree: true });

  // Enter in the composer with the mention list open must not reach React's submit handler:
  // the capture listener on the window runs first.
  window.addEventListener("keydown", function (event) {
    if (event.target && event.target.id === "composer") { onComposerKey(event); }
  }, true);
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".skip-link");
    if (link && composer()) { event.preventDefault(); composer().focus(); }
  });
  window.addEventListener("focus", noteRead);
  document.addEventListener("visibilitychange", noteRead);
})();
