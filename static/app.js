// Small progressive enhancements; every page works without them.
(function () {
  "use strict";
  // A refused form is shown again with its error next to it: bring it
  // into view, and put the cursor in the form.
  var refused = document.querySelector(".form-error");
  // A preview is shown where its form is: bring it into view.
  var preview = document.querySelector("section.preview");
  if (preview && !refused) preview.scrollIntoView({ block: "start" });
  if (refused) {
    refused.scrollIntoView({ block: "center" });
    var field = refused.parentNode.querySelector("form input:not([type=hidden]), form textarea");
    if (field) field.focus({ preventScroll: true });
  }
  document.addEventListener("click", function (e) {
    var b = e.target.closest("[data-copy]");
    if (!b) return;
    var el = document.querySelector(b.getAttribute("data-copy"));
    if (!el || !navigator.clipboard) return;
    navigator.clipboard.writeText(el.textContent.trim()).then(function () {
      var old = b.textContent;
      b.textContent = "Copied";
      setTimeout(function () { b.textContent = old; }, 1500);
    });
  });
  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) e.preventDefault();
  });
  document.addEventListener("change", function (e) {
    if (e.target.hasAttribute("data-autosubmit")) e.target.form.submit();
    // A "select all" box checks every box of its name in its form.
    var all = e.target.getAttribute("data-check-all");
    if (all && e.target.form) {
      e.target.form.querySelectorAll('input[type=checkbox][name="' + all + '"]').forEach(function (b) {
        b.checked = e.target.checked;
      });
    }
  });

  // Search suggestions as you type, debounced.
  var input = document.querySelector("[data-suggest]");
  if (!input) return;
  var list = input.parentNode.querySelector(".suggest");
  var timer = null, seq = 0;
  function hide() { list.hidden = true; list.textContent = ""; }
  input.addEventListener("input", function () {
    clearTimeout(timer);
    var q = input.value.trim();
    if (q.length < 2) { hide(); return; }
    timer = setTimeout(function () {
      var mine = ++seq;
      fetch(input.getAttribute("data-suggest") + "?q=" + encodeURIComponent(q), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (items) {
          if (mine !== seq) return;
          list.textContent = "";
          (items || []).forEach(function (it) {
            var li = document.createElement("li");
            var a = document.createElement("a");
            a.href = "/r/" + it.name;
            a.textContent = it.name;
            li.appendChild(a);
            list.appendChild(li);
          });
          list.hidden = list.children.length === 0;
        })
        .catch(hide);
    }, 200);
  });
  input.addEventListener("keydown", function (e) { if (e.key === "Escape") hide(); });
  document.addEventListener("click", function (e) { if (!input.parentNode.contains(e.target)) hide(); });
})();
