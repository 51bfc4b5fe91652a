// The fleet page replaces its live section (#live) every second. A
// replacement drops a selection in it and the focus of a link in it, so
// nobody could copy an error or tab through the rows. While the reader
// has text of the section selected, or a link of it focused, its refresh
// is held, and #live-held says so; the next refresh after they let go
// goes through and hides it.
(function () {
  "use strict";

  function reading(live) {
    var sel = window.getSelection();
    if (sel && !sel.isCollapsed && sel.rangeCount > 0 && live.contains(sel.getRangeAt(0).commonAncestorContainer)) {
      return true;
    }
    var focused = document.activeElement;
    return focused !== null && focused !== document.body && live.contains(focused);
  }

  document.addEventListener("htmx:beforeRequest", function (evt) {
    var live = evt.detail.elt;
    var notice = document.getElementById("live-held");
    if (!live || live.id !== "live" || !notice) {
      return;
    }
    if (reading(live)) {
      evt.preventDefault();
      notice.hidden = false;
      notice.dataset.held = String(Number(notice.dataset.held || "0") + 1);
      return;
    }
    notice.hidden = true;
  });
})();
