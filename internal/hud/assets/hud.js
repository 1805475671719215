// ghsync HUD: live job-name filter (kept in the URL so auto-refresh keeps it)
// and auto-refresh.
(function () {
  "use strict";
  var input = document.getElementById("filter");
  var shown = document.getElementById("shown");
  function apply() {
    var f = (input.value || "").toLowerCase();
    var headers = document.querySelectorAll("th.job");
    var visible = {}, n = 0;
    headers.forEach(function (th) {
      var on = th.dataset.job.toLowerCase().indexOf(f) !== -1;
      th.classList.toggle("hidden", !on);
      if (on) { visible[th.dataset.job] = true; n++; }
    });
    document.querySelectorAll("td.cell").forEach(function (td) {
      td.classList.toggle("hidden", !visible[td.dataset.job]);
    });
    shown.textContent = String(n);
    var u = new URL(window.location.href);
    if (f) { u.searchParams.set("filter", input.value); } else { u.searchParams.delete("filter"); }
    window.history.replaceState(null, "", u.toString());
  }
  if (input) {
    input.addEventListener("input", apply);
    input.form.addEventListener("submit", function (e) { e.preventDefault(); apply(); });
  }
  var secs = parseInt(document.body.dataset.refresh || "0", 10);
  if (secs > 0) {
    window.setTimeout(function () { window.location.reload(); }, secs * 1000);
  }
})();
