/* Questionnaire enhancements. The form works fully without this script. */
(function () {
  "use strict";

  var form = document.querySelector("form.questionnaire");
  if (!form) { return; }

  // 1. After a failed submit, move focus to the list of problems so screen
  //    readers announce it and keyboard users start there.
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }

  // 2. Warn at once when the answers make this an emergency. The server sends
  //    the emergency rules of intake/triage.py already applied to the answers
  //    on the other pages, as trees over this page's questions:
  //    ["is", code, [values]], ["all", ...], ["any", ...] or ["always"].
  var conditionsScript = document.getElementById("emergency-conditions");
  var conditions = conditionsScript ? JSON.parse(conditionsScript.textContent) : [];
  var advice = document.getElementById("emergency-advice-live");
  function answerTo(code) {
    var chosen = form.querySelector('input[name="' + code + '"]:checked');
    if (chosen === null) { return null; }
    // A question hidden because it is not asked counts as not answered.
    var block = document.getElementById("div_id_" + code);
    if (block && block.classList.contains("d-none")) { return null; }
    return chosen.value.trim().toLowerCase();
  }
  function holds(node) {
    switch (node[0]) {
      case "always": return true;
      case "is": return node[2].indexOf(answerTo(node[1])) !== -1;
      case "all": return node.slice(1).every(holds);
      case "any": return node.slice(1).some(holds);
      default: return false;
    }
  }
  function updateAdvice() {
    if (!advice) { return; }
    var show = conditions.some(holds);
    if (show && advice.hidden) {
      advice.hidden = false;
      advice.scrollIntoView({ block: "nearest" });
    } else if (!show) {
      advice.hidden = true;
    }
    if (show) { sendNow(); }
  }

  // 2b. Send the answers so far at once, in the background, so a patient who
  //     follows the advice and leaves is not lost: the server makes the case
  //     and alerts the clinic (action=send-now answers with JSON). keepalive
  //     lets the request finish even if the tab is closed straight after.
  var sending = false;
  var sent = false;
  function sendNow() {
    if (sending || sent || !window.fetch || !window.FormData) { return; }
    sending = true;
    var data = new FormData(form);
    data.set("action", "send-now");
    fetch(window.location.href, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      keepalive: true,
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (result) {
      sending = false;
      if (!result || !result.sent) { return; }
      sent = true;
      var first = document.getElementById("emergency-send-first");
      var note = document.getElementById("emergency-sent");
      var reference = document.getElementById("emergency-sent-reference");
      if (reference) { reference.textContent = result.reference; }
      if (first) { first.hidden = true; }
      if (note) { note.hidden = false; }
    }).catch(function () {
      // The button still sends everything; the advice stays on screen.
      sending = false;
    });
  }

  // 3. Show a conditional question only for the answers that ask it (the
  //    weakness details when a leg is weak, falls when a leg has given way):
  //    {code: [controlling question, [answers that ask it]]} from intake/forms.py.
  //    The server hides (class d-none) the ones the answers so far do not ask.
  var conditionalScript = document.getElementById("conditional-questions");
  var conditional = conditionalScript ? JSON.parse(conditionalScript.textContent) : {};
  function updateConditionalQuestions() {
    Object.keys(conditional).forEach(function (code) {
      var block = document.getElementById("div_id_" + code);
      if (!block) { return; }
      var chosen = form.querySelector('input[name="' + conditional[code][0] + '"]:checked');
      var asked = chosen !== null && conditional[code][1].indexOf(chosen.value) !== -1;
      block.classList.toggle("d-none", !asked);
    });
  }

  // 4. Count the characters of a text with a limit as the patient types
  //    (data-limit from intake/forms.py), in the hint under it; the server
  //    writes the same count when it shows the page. Nothing is ever cut.
  var counts = document.getElementById("character-counts");
  var countText = counts ? JSON.parse(counts.textContent) : null;
  function formatNumber(n) {
    return n.toLocaleString(document.documentElement.lang || undefined);
  }
  function describeCount(limit, used) {
    var left = limit - used;
    if (used === 0) { return countText.limit.replace("%(limit)s", formatNumber(limit)); }
    var template = left >= 0
      ? (left === 1 ? countText.left_one : countText.left)
      : (left === -1 ? countText.over_one : countText.over);
    return template.replace("%(count)s", formatNumber(Math.abs(left)));
  }
  if (countText) {
    form.querySelectorAll(".static-count").forEach(function (count) { count.remove(); });
    form.querySelectorAll("[data-limit]").forEach(function (box) {
      var limit = parseInt(box.getAttribute("data-limit"), 10);
      var live = document.createElement("div");
      live.className = "form-text character-count";
      live.id = box.id + "_count";
      live.setAttribute("aria-live", "polite");
      box.insertAdjacentElement("afterend", live);
      box.setAttribute(
        "aria-describedby",
        ((box.getAttribute("aria-describedby") || "") + " " + live.id).trim()
      );
      var timer = null;
      function update() {
        var used = box.value.length;
        live.textContent = describeCount(limit, used);
        live.classList.toggle("text-danger", used > limit);
        live.classList.toggle("fw-bold", used > limit);
      }
      box.addEventListener("input", function () {
        // Screen readers hear the count once typing pauses, not every key.
        window.clearTimeout(timer);
        timer = window.setTimeout(update, 400);
      });
      update();
    });
  }

  form.addEventListener("change", function () {
    updateConditionalQuestions();
    updateAdvice();
  });
  updateConditionalQuestions();
  updateAdvice();
}());
