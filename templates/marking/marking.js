// Marking by keyboard: j / k (or the arrows) move between answers, a digit sets the score of the
// current one, Enter saves it and moves on.  Saves go by fetch; without this script the forms post.
(function () {
  var cards = Array.prototype.slice.call(document.querySelectorAll("section.answer"));
  if (!cards.length) { return; }
  var current = 0;
  var counter = document.getElementById("marked-count"), bar = document.getElementById("progress-bar");

  function choose(index, focus) {
    index = Math.max(0, Math.min(cards.length - 1, index));
    cards[current].classList.remove("current");
    current = index;
    cards[current].classList.add("current");
    if (focus !== false) {
      cards[current].focus();
      cards[current].scrollIntoView({ block: "center" });
    }
  }

  function field(card, name) { return card.querySelector("form.mark [name='" + name + "']"); }

  function say(card, message, conflict) {
    var old = card.querySelector(".message, table.conflict");
    while (old) { old.remove(); old = card.querySelector(".message, table.conflict"); }
    if (!message) { return; }
    var form = card.querySelector("form.mark");
    var banner = document.createElement("p");
    banner.className = "banner fail message";
    banner.setAttribute("role", "alert");
    banner.textContent = message;
    form.parentNode.insertBefore(banner, form);
    if (!conflict) { return; }
    var table = document.createElement("table");
    table.className = "conflict";
    [["", "Points", "Comment"], [conflict.theirs.marker + " (saved " + conflict.theirs.when + ")", conflict.theirs.points, conflict.theirs.comment],
     ["yours (not saved)", conflict.yours.points, conflict.yours.comment]].forEach(function (cells, row) {
      var line = table.insertRow();
      line.className = ["", "theirs", "yours"][row];
      cells.forEach(function (text) { line.insertCell().textContent = String(text); });
    });
    form.parentNode.insertBefore(table, form);
  }

  function save(index) {
    var card = cards[index], form = card.querySelector("form.mark"), status = card.querySelector(".status");
    status.textContent = "saving…";
    fetch(form.action, { method: "POST", credentials: "same-origin", headers: { "Accept": "application/json" }, body: new URLSearchParams(new FormData(form)) })
      .then(function (response) { return response.json(); })
      .then(function (reply) {
        if (reply.saved) {
          field(card, "revision").value = reply.saved.revision;
          status.textContent = reply.saved.points + " / " + document.getElementById("question-points").textContent + ", marked by " + reply.saved.marker + " at " + reply.saved.when;
          card.classList.add("marked");
          card.classList.remove("refused");
          say(card, reply.stale);
          card.querySelector("h2.student .name").textContent = reply.saved.student;  // marked: its name may show
          if (reply.progress) {  // the whole class, others' marks included
            counter.textContent = String(reply.progress.marked);
            bar.value = reply.progress.marked;
          }
          if (index === current) { choose(index + 1); }
          return;
        }
        card.classList.add("refused");
        if (reply.conflict) { field(card, "revision").value = reply.conflict.theirs.revision; }
        status.textContent = "not saved";
        say(card, reply.refused, reply.conflict);
      })
      .catch(function () { status.textContent = "not saved: the server did not answer"; });
  }

  cards.forEach(function (card, index) {
    card.querySelector("form.mark").addEventListener("submit", function (event) { event.preventDefault(); save(index); });
    card.addEventListener("focusin", function () { choose(index, false); });
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var target = event.target, tag = target.tagName, inPoints = tag === "INPUT" && target.classList.contains("points");
    if (event.key === "Escape" && (tag === "TEXTAREA" || inPoints)) { cards[current].focus(); return; }
    if (tag === "TEXTAREA" || tag === "SELECT" || (tag === "INPUT" && !inPoints)) { return; }
    var key = event.key;
    if (key === "ArrowDown" || (key === "j" && !inPoints)) { choose(current + 1); }
    else if (key === "ArrowUp" || (key === "k" && !inPoints)) { choose(current - 1); }
    else if (!inPoints && /^[0-9]$/.test(key)) { field(cards[current], "points").value = key; }
    else if (key === "Enter" && !inPoints && tag !== "BUTTON" && tag !== "A") { save(current); }
    else { return; }
    event.preventDefault();
  });

  var named = cards.findIndex(function (card) { return "#" + card.id === location.hash; });
  var unmarked = cards.findIndex(function (card) { return !card.classList.contains("marked"); });
  choose(named >= 0 ? named : Math.max(unmarked, 0), named >= 0 || document.activeElement === document.body);
})();
