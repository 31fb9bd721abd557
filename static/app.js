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

  // Search suggestions as you type, debounced: an ARIA 1.2 combobox.
  // Focus stays in the box; the arrow keys move the active option
  // (aria-activedescendant), Enter opens it, or searches when none is
  // active, and Escape closes the list. The status region says how many
  // suggestions there are.
  var input = document.querySelector("[data-suggest]");
  if (!input) return;
  var form = input.form;
  var list = document.getElementById(input.getAttribute("aria-controls"));
  var status = form.querySelector("[role=status]");
  var timer = null, seq = 0, active = -1;
  function options() { return list.querySelectorAll("[role=option]"); }
  function say(text) { if (status && status.textContent !== text) status.textContent = text; }
  function setActive(i) {
    var opts = options();
    active = i;
    for (var k = 0; k < opts.length; k++) opts[k].setAttribute("aria-selected", k === i ? "true" : "false");
    if (i < 0) {
      input.removeAttribute("aria-activedescendant");
      return;
    }
    input.setAttribute("aria-activedescendant", opts[i].id);
    opts[i].scrollIntoView({ block: "nearest" });
  }
  function hide() {
    seq++; // an answer on its way is not shown
    clearTimeout(timer);
    setActive(-1);
    list.hidden = true;
    list.textContent = "";
    input.setAttribute("aria-expanded", "false");
  }
  function show(items) {
    list.textContent = "";
    active = -1;
    input.removeAttribute("aria-activedescendant");
    items.forEach(function (it, i) {
      var li = document.createElement("li");
      li.id = list.id + "-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      var a = document.createElement("a");
      a.href = "/r/" + it.name;
      a.tabIndex = -1;
      a.textContent = it.name;
      li.appendChild(a);
      list.appendChild(li);
    });
    var n = items.length;
    list.hidden = n === 0;
    input.setAttribute("aria-expanded", n > 0 ? "true" : "false");
    say(n === 0 ? "No suggestions." : n === 1 ? "1 suggestion." : n + " suggestions.");
  }
  function ask(q) {
    var mine = ++seq;
    fetch(input.getAttribute("data-suggest") + "?q=" + encodeURIComponent(q), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (items) { if (mine === seq) show(items || []); })
      .catch(function () { if (mine === seq) hide(); });
  }
  input.addEventListener("input", function () {
    clearTimeout(timer);
    var q = input.value.trim();
    if (q.length < 2) { hide(); say(""); return; }
    timer = setTimeout(function () { ask(q); }, 200);
  });
  input.addEventListener("keydown", function (e) {
    var n = list.hidden ? 0 : options().length;
    switch (e.key) {
    case "ArrowDown":
    case "ArrowUp":
      e.preventDefault();
      if (n === 0) {
        // A closed list opens, asked at once.
        var q = input.value.trim();
        if (q.length >= 2) { clearTimeout(timer); ask(q); }
        return;
      }
      if (e.key === "ArrowDown") setActive(active + 1 < n ? active + 1 : 0);
      else setActive(active > 0 ? active - 1 : n - 1);
      return;
    case "Enter":
      if (active >= 0 && n > 0) {
        e.preventDefault();
        openActive();
      }
      return; // otherwise the form searches
    case "Escape":
      if (n > 0) { e.preventDefault(); hide(); }
      return; // otherwise the box clears, as a search box does
    }
  });
  list.addEventListener("mousemove", function (e) {
    var li = e.target.closest("[role=option]");
    if (!li) return;
    var opts = options();
    for (var k = 0; k < opts.length; k++) if (opts[k] === li && k !== active) setActive(k);
  });
  // A press on the list keeps the focus in the box, so the list is still
  // there for the click.
  list.addEventListener("mousedown", function (e) { e.preventDefault(); });
  // Opens the active suggestion. The form's own submission (Enter's
  // implicit one, which some input methods send apart from the key) opens
  // it too while one is active, rather than searching.
  function openActive() {
    var a = options()[active].querySelector("a");
    if (a) window.location.assign(a.href);
  }
  form.addEventListener("submit", function (e) {
    if (active >= 0 && !list.hidden && options().length > 0) {
      e.preventDefault();
      openActive();
    }
  });
  form.addEventListener("focusout", function (e) { if (!form.contains(e.relatedTarget)) hide(); });
  document.addEventListener("click", function (e) { if (!form.contains(e.target)) hide(); });
})();
