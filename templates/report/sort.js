// Sort a table by the column whose header is clicked (cells may carry data-value to sort by), and filter the students table.
document.querySelectorAll("table.sortable").forEach(function (table) {
  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
  headers.forEach(function (header, column) {
    var button = header.querySelector("button");
    if (!button) { return; }
    button.addEventListener("click", function () {
      var ascending = header.getAttribute("aria-sort") !== "ascending";
      headers.forEach(function (other) { other.removeAttribute("aria-sort"); });
      header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      var numeric = header.getAttribute("data-type") === "number";
      var key = function (row) {
        var cell = row.cells[column];
        var value = cell.hasAttribute("data-value") ? cell.getAttribute("data-value") : cell.textContent.trim();
        return numeric ? Number(value) : value;
      };
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        var order = numeric ? x - y : String(x).localeCompare(String(y));
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});

// Filter the students table: a row stays when its text, or the words of its data-terms (its status,
// mistakes and rules), hold every word typed, in any case.
(function () {
  var box = document.getElementById("filter");
  var table = document.getElementById("students");
  if (!box || !table) { return; }
  var count = document.getElementById("filter-count");
  box.addEventListener("input", function () {
    var words = box.value.toLowerCase().split(/\s+/).filter(Boolean);
    var rows = Array.prototype.slice.call(table.tBodies[0].rows), shown = 0;
    rows.forEach(function (row) {
      var text = (row.textContent + " " + (row.getAttribute("data-terms") || "")).toLowerCase();
      var keep = words.every(function (word) { return text.indexOf(word) !== -1; });
      row.hidden = !keep;
      shown += keep ? 1 : 0;
    });
    if (count) { count.textContent = words.length ? shown + " of " + rows.length + " shown" : ""; }
  });
})();
