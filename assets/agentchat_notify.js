// AgentChat desktop notifications, while the tab is hidden (no user text is turned into HTML:
// a notification's body is plain text).  The person's choice is in localStorage
// ("agentchat-notify": all | mentions | none, default mentions, set on the header's bell);
// permission is asked only when they choose, never on load (components/notify_settings.py).
(function () {
  "use strict";
  var seen = new Set();
  var ready = false;

  function mode() {
    var value = localStorage.getItem("agentchat-notify");
    return value === "all" || value === "none" ? value : "mentions";
  }

  function consider(node) {
    var key = node.id;
    if (!key || seen.has(key)) { return; }
    seen.add(key);
    if (!ready || document.visibilityState !== "hidden") { return; }
    if (!("Notification" in window) || Notification.permission !== "granted") { return; }
    var sender = node.getAttribute("data-sender") || "";
    if (!sender || sender === window.agentchatMe) { return; }
    var chosen = mode();
    var mention = Boolean(node.getAttribute("data-notify"));
    var direct = Boolean(node.closest("[data-room-kind='dm']"));
    var important = mention || direct;
    if (chosen === "none" || (chosen === "mentions" && !important)) { return; }
    var text = node.querySelector(".message-text");
    var body = (text ? text.textContent : "").replace(/\s+/g, " ").trim().slice(0, 140);
    try {
      var title = mention ? sender + " mentioned you" : direct ? sender + " (direct message)" : sender;
      var note = new Notification(title, { body: body, tag: key });
      note.onclick = function () { window.focus(); node.scrollIntoView({ block: "center" }); note.close(); };
    } catch (err) { /* some browsers only allow notifications from a service worker */ }
  }

  function scan(root) {
    if (!root.querySelectorAll) { return; }
    if (root.classList && root.classList.contains("message")) { consider(root); }
    root.querySelectorAll(".message[id^='msg-']").forEach(consider);
  }

  // React may reuse a message's element for another message (its id changes): look at every
  // message in the log after each change, not only at added elements.
  new MutationObserver(function () {
    var log = document.getElementById("message-log");
    if (log) { scan(log); }
  }).observe(document.documentElement, { childList: true, subtree: true, attributes: true, attributeFilter: ["id"] });
  // What is on screen when the page opens is history, not news.
  setTimeout(function () { scan(document.documentElement); ready = true; }, 1500);

  // A mention or a direct message in a room that is not open (the app's state sends these).
  window.agentchatNotifyElsewhere = function (title, body, tag) {
    if (seen.has(tag)) { return; }
    seen.add(tag);
    if (mode() === "none" || document.visibilityState !== "hidden") { return; }
    if (!("Notification" in window) || Notification.permission !== "granted") { return; }
    try {
      var note = new Notification(title, { body: body, tag: tag });
      note.onclick = function () { window.focus(); note.close(); };
    } catch (err) { /* some browsers only allow notifications from a service worker */ }
  };

  window.agentchatAskNotifications = function () {
    if (!("Notification" in window)) { return "unsupported"; }
    if (Notification.permission === "default") { Notification.requestPermission(); }
    return Notification.permission;
  };
})();
