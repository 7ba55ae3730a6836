"use strict";
// Sort the trial table by a clicked column; filter it to trials within budget.
(function () {
  function key(cell, numeric) {
    var raw = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent;
    if (!numeric) { return raw; }
    var v = parseFloat(raw);
    return isNaN(v) ? -Infinity : v;
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var heads = table.querySelectorAll("thead th");
    heads.forEach(function (th, col) {
      th.addEventListener("click", function () {
        var numeric = th.getAttribute("data-type") === "num";
        var asc = th.getAttribute("aria-sort") !== "ascending";
        heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = key(a.cells[col], numeric), y = key(b.cells[col], numeric);
          var c = x < y ? -1 : x > y ? 1 : 0;
          return asc ? c : -c;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });
  var only = document.getElementById("only-feasible");
  if (only) {
    only.addEventListener("change", function () {
      document.querySelectorAll("#trials tbody tr.infeasible").forEach(function (row) {
        row.hidden = only.checked;
      });
    });
  }
})();
