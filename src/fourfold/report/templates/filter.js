(function () {
  "use strict";
  // Case filter: by cell, verdict and model. A case shows when one of its
  // results matches; results of other models are hidden, and results of the
  // chosen model with another verdict are dimmed (kept for comparison).
  var cellSel = document.getElementById("f-cell");
  var verdictSel = document.getElementById("f-verdict");
  var modelSel = document.getElementById("f-model");
  var count = document.getElementById("f-count");
  if (!cellSel || !verdictSel || !modelSel) { return; }
  var groups = Array.prototype.map.call(document.querySelectorAll(".cell-group"), function (g) {
    return {
      el: g,
      cell: g.getAttribute("data-cell"),
      cases: Array.prototype.map.call(g.querySelectorAll(".case"), function (c) {
        return {
          el: c,
          results: Array.prototype.map.call(c.querySelectorAll(".result"), function (r) {
            return { el: r, model: r.getAttribute("data-model"), verdict: r.getAttribute("data-verdict") };
          })
        };
      })
    };
  });
  function apply() {
    var cell = cellSel.value, verdict = verdictSel.value, model = modelSel.value, shown = 0, total = 0;
    groups.forEach(function (g) {
      var groupShown = 0;
      g.cases.forEach(function (c) {
        total += 1;
        var match = false;
        c.results.forEach(function (r) {
          var modelOk = !model || r.model === model;
          var verdictOk = !verdict || r.verdict === verdict;
          r.el.hidden = !modelOk;
          r.el.classList.toggle("dim", modelOk && !verdictOk);
          if (modelOk && verdictOk) { match = true; }
        });
        var show = (!cell || g.cell === cell) && match;
        c.el.hidden = !show;
        if (show) { groupShown += 1; }
      });
      g.el.hidden = groupShown === 0;
      shown += groupShown;
    });
    if (count) { count.textContent = shown === total ? total + " case(s)" : shown + " of " + total + " case(s)"; }
  }
  [cellSel, verdictSel, modelSel].forEach(function (s) { s.addEventListener("change", apply); });
  var reset = document.getElementById("f-reset");
  if (reset) {
    reset.addEventListener("click", function () {
      cellSel.value = ""; verdictSel.value = ""; modelSel.value = ""; apply();
    });
  }
})();
