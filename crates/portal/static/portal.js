// The live host-ID check: as a customer types a host-ID code, ask the portal whether it is
// valid and show why not. The form works without this script; the server checks again.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("input[data-hostid-check]").forEach(function (input) {
    var out = document.getElementById(input.getAttribute("data-hostid-check"));
    if (!out) return;
    var timer = null;
    function check() {
      var code = input.value.trim();
      if (code === "") { out.textContent = ""; out.className = "check"; return; }
      fetch("/hostid-check?code=" + encodeURIComponent(code), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (j) {
          if (!j) return;
          out.textContent = j.valid ? "Valid " + j.form + " host ID: " + j.canonical : j.message;
          out.className = "check " + (j.valid ? "valid" : "invalid");
        })
        .catch(function () {});
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(check, 250);
    });
  });
});
