// AgentChat browser helpers (no user text is ever turned into HTML here).
// - keep the log pinned to the newest message unless the reader scrolled up;
// - load earlier messages when the reader reaches the top;
// - count mentions of me that arrive while the tab is not looked at, in the tab title.
(function () {
  "use strict";
  var unread = 0;
  var seen = new Set();
  var baseTitle = null;
  var pinned = true;

  function looking() { return document.visibilityState === "visible" && document.hasFocus(); }

  function showTitle() {
    if (baseTitle === null || unread === 0) {
      baseTitle = document.title.replace(/^\(\d+\) /, "");
    }
    document.title = unread > 0 ? "(" + unread + ") " + baseTitle : baseTitle;
  }

  window.agentchatMarkRead = function () {
    if (unread) { unread = 0; showTitle(); }
  };
  window.agentchatUnread = function () { return unread; };

  function noteMentions(root) {
    if (!root.querySelectorAll) { return; }
    var nodes = Array.prototype.slice.call(root.querySelectorAll("[data-notify]"));
    if (root.hasAttribute && root.hasAttribute("data-notify")) { nodes.push(root); }
    var fresh = 0;
    nodes.forEach(function (node) {
      var key = node.getAttribute("data-notify");
      if (key && !seen.has(key)) { seen.add(key); if (window.__agentchatReady) { fresh++; } }
    });
    if (fresh && !looking()) { unread += fresh; showTitle(); }
  }

  function attach(log) {
    if (log.__agentchat) { return; }
    log.__agentchat = true;
    log.addEventListener("scroll", function () {
      pinned = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
      if (log.scrollTop < 40) {
        var more = document.getElementById("load-earlier");
        if (more && !more.__clicked) {
          more.__clicked = true;
          var before = log.scrollHeight;
          more.click();
          setTimeout(function () { more.__clicked = false; }, 800);
          // keep the reader's place when older messages are inserted above
          setTimeout(function () { if (log.scrollHeight > before) { log.scrollTop += log.scrollHeight - before; } }, 400);
        }
      }
    });
    // Pinned to the bottom once per frame, just before it is painted: reading scrollHeight in the
    // observer itself forced a layout of the whole log for every change React made.
    var pinQueued = false;
    function keepPinned() {
      if (pinQueued) { return; }
      pinQueued = true;
      requestAnimationFrame(function () { pinQueued = false; if (pinned) { log.scrollTop = log.scrollHeight; } });
    }
    new MutationObserver(function (mutations) {
      mutations.forEach(function (m) { m.addedNodes.forEach(function (n) { if (n.nodeType === 1) { noteMentions(n); } }); });
      if (pinned) { keepPinned(); }
    }).observe(log, { childList: true, subtree: true, characterData: true });
    noteMentions(log);
    log.scrollTop = log.scrollHeight;
    // Mentions already on screen when the page loads are history, not news.
    setTimeout(function () { noteMentions(log); window.__agentchatReady = true; }, 1500);
  }

  new MutationObserver(function () {
    var log = document.getElementById("message-log");
    if (log) { attach(log); }
  }).observe(document.documentElement, { childList: true, subtree: true });

  window.addEventListener("focus", window.agentchatMarkRead);
  document.addEventListener("visibilitychange", function () { if (looking()) { window.agentchatMarkRead(); } });
})();
