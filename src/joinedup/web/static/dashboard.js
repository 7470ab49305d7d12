/* Live response rates: refresh the dashboard's tables every 15 seconds from /admin/rates.json. */
(function () {
  "use strict";
  function refresh() {
    fetch("/admin/rates.json", { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        Object.keys(data).forEach(function (name) {
          var table = document.querySelector('table[data-table="' + name + '"] tbody');
          if (!table) { return; }
          table.innerHTML = "";
          data[name].forEach(function (row) {
            var tr = document.createElement("tr");
            Object.keys(row).forEach(function (k) {
              var td = document.createElement("td");
              td.textContent = row[k] === null ? "" : row[k];
              if (typeof row[k] === "number") { td.className = "num"; }
              tr.appendChild(td);
            });
            table.appendChild(tr);
          });
        });
        var u = document.getElementById("updated");
        if (u) { u.textContent = "Updated " + new Date().toLocaleTimeString() + "."; }
      });
  }
  setInterval(refresh, 15000);
})();
