/* Questionnaire enhancements. The form works fully without this script. */
(function () {
  "use strict";

  var form = document.querySelector("form.questionnaire");
  if (!form) { return; }

  // 1. After a failed submit, move focus to the list of problems so screen
  //    readers announce it and keyboard users start there.
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }

  // 2. Warn at once when an emergency warning sign is answered "yes".
  var emergencyCodes = (form.dataset.emergencyCodes || "").split(" ").filter(Boolean);
  var advice = document.getElementById("emergency-advice-live");
  function anyEmergencyYes() {
    return emergencyCodes.some(function (code) {
      return form.querySelector('input[name="' + code + '"][value="yes"]:checked') !== null;
    });
  }
  function updateAdvice() {
    if (!advice) { return; }
    var show = anyEmergencyYes();
    if (show && advice.hidden) {
      advice.hidden = false;
      advice.scrollIntoView({ block: "nearest" });
    } else if (!show) {
      advice.hidden = true;
    }
  }

  // 3. Ask how fast and which way the weakness goes only when a leg is weak.
  var weakSideInputs = form.querySelectorAll('input[name="weak_side"]');
  var dependentIds = ["div_id_weakness_onset", "div_id_weakness_trend"];
  function updateWeakness() {
    if (!weakSideInputs.length) { return; }
    var chosen = form.querySelector('input[name="weak_side"]:checked');
    var weak = chosen !== null && chosen.value !== "neither";
    dependentIds.forEach(function (id) {
      var block = document.getElementById(id);
      if (block) { block.hidden = !weak; }
    });
  }

  form.addEventListener("change", function () {
    updateAdvice();
    updateWeakness();
  });
  updateAdvice();
  updateWeakness();
}());
