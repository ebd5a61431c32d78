/* The offer's filters, in the page without a server (no libraries, nothing fetched). Without this script every
   intervention shows and the filter form stays hidden. Its words live in the page (data-tekst), not here. */
(function () {
  "use strict";
  var form = document.getElementById("filters");
  if (!form) { return; }
  var items = Array.prototype.slice.call(document.querySelectorAll("li.dienst"));
  var selects = ["regio", "niveau", "vorm", "probleem"];
  var unknownBox = document.getElementById("filter-ongekend");
  var ageInput = document.getElementById("filter-leeftijd");
  var count = document.getElementById("aantal");

  function ageVerdict(item, age) {
    var low = item.getAttribute("data-min-leeftijd");
    var high = item.getAttribute("data-max-leeftijd");
    if (low === null && high === null) { return "unknown"; }
    if (low !== null && age < Number(low)) { return "no"; }
    if (high !== null && age > Number(high)) { return "no"; }
    return "yes";
  }

  function selectVerdict(item, name, chosen) {
    var stored = item.getAttribute("data-" + name);
    if (stored === null) { return "unknown"; }
    return stored.split(" ").indexOf(chosen) >= 0 ? "yes" : "no";
  }

  function mark(item, name, on) {
    var note = item.querySelector('[data-ongekend="' + name + '"]');
    if (note) { note.hidden = !on; }
  }

  function verdicts(item) {
    var found = {};
    selects.forEach(function (name) {
      var chosen = document.getElementById("filter-" + name).value;
      if (chosen) { found[name] = selectVerdict(item, name, chosen); }
    });
    var age = ageInput.value.trim();
    if (age !== "" && !isNaN(Number(age))) { found.leeftijd = ageVerdict(item, Number(age)); }
    return found;
  }

  function apply() {
    var shown = 0;
    var withUnknown = unknownBox.checked;
    items.forEach(function (item) {
      var found = verdicts(item);
      var visible = true;
      ["regio", "niveau", "vorm", "probleem", "leeftijd"].forEach(function (name) {
        var verdict = found[name];
        if (verdict === "no" || (verdict === "unknown" && !withUnknown)) { visible = false; }
        mark(item, name, verdict === "unknown");
      });
      item.hidden = !visible;
      if (visible) { shown += 1; }
    });
    var text = count.getAttribute("data-tekst") || "%n / %t";
    count.textContent = text.replace("%n", String(shown)).replace("%t", String(items.length));
  }

  form.addEventListener("change", apply);
  form.addEventListener("input", apply);
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  // "reset" fires before the browser puts the controls back: filter once they are.
  form.addEventListener("reset", function () { window.setTimeout(apply, 0); });
  form.hidden = false;
  apply();
}());
