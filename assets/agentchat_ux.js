// AgentChat: search shortcuts, showing a chosen search result, the composer's height, and
// "Back online" after the browser's own socket returns.  No user text becomes HTML here.
(function () {
  "use strict";

  function press(id) { var b = document.getElementById(id); if (b) { b.click(); } }

  // Ctrl/Cmd+K focuses the search; Escape or a click elsewhere closes its results;
  // the arrow keys move between the results.
  document.addEventListener("keydown", function (e) {
    if ((e.ctrlKey || e.metaKey) && !e.altKey && (e.key === "k" || e.key === "K")) {
      var field = document.getElementById("search");
      if (field) { e.preventDefault(); field.focus(); field.select(); }
      return;
    }
    var box = e.target && e.target.closest ? e.target.closest(".search-box") : null;
    if (!box) { return; }
    if (e.key === "Escape" && document.getElementById("search-results")) {
      e.preventDefault();
      e.stopPropagation();
      press("search-close");
      var input = document.getElementById("search");
      if (input) { input.focus(); }
    } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      var items = Array.prototype.slice.call(box.querySelectorAll(".search-result"));
      if (!items.length) { return; }
      var at = items.indexOf(document.activeElement);
      var next = e.key === "ArrowDown" ? Math.min(at + 1, items.length - 1) : at - 1;
      e.preventDefault();
      if (next < 0) { document.getElementById("search").focus(); } else { items[next].focus(); }
    }
  }, true);
  document.addEventListener("mousedown", function (e) {
    if (document.getElementById("search-results") && !(e.target.closest && e.target.closest(".search-box"))) {
      press("search-close");
    }
  });

  // Scroll the log to a message (a chosen search result) once it is on the page.
  window.agentchatReveal = function (id) {
    var tries = 0;
    (function look() {
      var node = document.getElementById("msg-" + id);
      if (node) {
        node.scrollIntoView({ block: "center" });
        return;
      }
      if (++tries < 100) { setTimeout(look, 50); }
    })();
  };

  // The composer grows with its text (Reflex's auto height) and goes back to one line once the
  // text is sent: the height is fitted again when its value is cleared.
  // Measuring (height auto, then scrollHeight) lays the page out twice, and the log above the
  // composer with it: the empty composer's height is measured once and then only set.
  var emptyHeight = null;
  window.addEventListener("resize", function () { emptyHeight = null; });
  function fit(area) {
    if (emptyHeight === null) {
      area.style.height = "auto";
      emptyHeight = area.scrollHeight + 2 + "px";
    }
    if (area.style.height !== emptyHeight) { area.style.height = emptyHeight; }
  }
  window.agentchatFitComposer = function () {
    [0, 60, 250, 600].forEach(function (ms) {
      setTimeout(function () { var a = document.getElementById("composer"); if (a && a.value === "") { fit(a); } }, ms);
    });
  };

  // "Back online" for a moment after the app's own socket returns (its banner is gone).
  var wasDown = false;
  new MutationObserver(function () {
    var down = !!document.getElementById("app-reconnecting");
    if (wasDown && !down && !document.getElementById("connection-banner")) {
      var note = document.createElement("div");
      note.className = "connection-banner back-online";
      note.setAttribute("aria-live", "polite");
      note.textContent = "Back online";
      document.body.appendChild(note);
      setTimeout(function () { note.remove(); }, 3000);
    }
    wasDown = down;
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
