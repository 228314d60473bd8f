/* Clinic tablet mode on a questionnaire page (intake/tablet.py, templates/intake/_tablet.html).

   The server wipes a questionnaire left idle on a clinic tablet whatever this
   script does. The script makes that kind: it warns a minute before, keeps the
   answers while the patient is still there (any input, click or key press
   tells the server, at most every few seconds), and when the time is up clears
   the page too, so answers typed but not yet saved are not left on screen. */
(function () {
  "use strict";

  var settings = document.getElementById("tablet-idle");
  var dialog = document.getElementById("tablet-idle-warning");
  var stillHere = document.getElementById("tablet-still-here");
  if (!settings || !dialog || !stillHere) { return; }

  var idleSeconds = Number(settings.dataset.idleSeconds) || 300;
  var secondsLeft = Number(settings.dataset.secondsLeft);
  if (!(secondsLeft >= 0)) { secondsLeft = idleSeconds; }
  var token = settings.querySelector('input[name="csrfmiddlewaretoken"]').value;
  var hasDraft = settings.dataset.hasDraft === "1";
  // Warn a minute before (half the idle time if that is shorter), and tell the
  // server about activity often enough that it always hears before the wipe.
  var warnBeforeMs = Math.min(60, idleSeconds / 2) * 1000;
  var keepAliveEveryMs = Math.min(15000, warnBeforeMs / 3);
  // A page shown a moment after the server counted counts a little early.
  var deadline = Date.now() + Math.max(0, secondsLeft - 1) * 1000;
  var warnTimer = null;
  var wipeTimer = null;
  var lastSent = 0;
  var pendingKeepAlive = null;
  var wiping = false;

  // Answers a patient typed must not be offered to the next one by the browser.
  document.querySelectorAll("form.questionnaire input, form.questionnaire textarea")
    .forEach(function (field) { field.setAttribute("autocomplete", "off"); });

  function schedule() {
    clearTimeout(warnTimer);
    clearTimeout(wipeTimer);
    var now = Date.now();
    warnTimer = setTimeout(warn, Math.max(0, deadline - warnBeforeMs - now));
    wipeTimer = setTimeout(expire, Math.max(0, deadline - now));
  }

  // Whether anything of a patient would be left: a questionnaire the server
  // keeps, or anything typed or chosen on this page. An untouched start page
  // has nothing to clear, and is left alone.
  function somethingToForget() {
    if (hasDraft) { return true; }
    var fields = document.querySelectorAll(
      "form.questionnaire input, form.questionnaire textarea, form.questionnaire select");
    return Array.prototype.some.call(fields, function (field) {
      if (field.type === "hidden" || field.type === "submit" || field.type === "button") {
        return false;
      }
      if (field.type === "radio" || field.type === "checkbox") { return field.checked; }
      return field.value.trim() !== "";
    });
  }

  function startAgainLater() {
    deadline = Date.now() + idleSeconds * 1000;
    schedule();
  }

  function warn() {
    if (wiping || dialog.open) { return; }
    if (!somethingToForget()) { startAgainLater(); return; }
    dialog.showModal();
    stillHere.focus();
  }

  function expire() {
    if (somethingToForget()) { wipe(); } else { startAgainLater(); }
  }

  function wipe() {
    if (wiping) { return; }
    wiping = true;
    // A real form post: the server forgets the questionnaire and sends the
    // start page, and this page is replaced rather than kept in memory.
    var form = document.createElement("form");
    form.method = "post";
    form.action = settings.dataset.clearUrl;
    var field = document.createElement("input");
    field.type = "hidden";
    field.name = "csrfmiddlewaretoken";
    field.value = token;
    form.appendChild(field);
    document.body.appendChild(form);
    form.submit();
  }

  function keepAlive() {
    clearTimeout(pendingKeepAlive);
    pendingKeepAlive = null;
    var sentAt = Date.now();
    lastSent = sentAt;
    fetch(settings.dataset.keepAliveUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": token, "Accept": "application/json" },
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (answer) {
      if (!answer || wiping) { return; }
      if (answer.cleared) { wipe(); return; }
      deadline = sentAt + Math.max(0, answer.seconds_left - 1) * 1000;
      schedule();
    }).catch(function () {
      // Offline for a moment: the page keeps its deadline and tries again on
      // the next activity.
    });
  }

  function activity() {
    if (wiping) { return; }
    if (dialog.open) {
      // Any answer to the warning means the patient is still here.
      dialog.close();
      keepAlive();
      return;
    }
    var wait = lastSent + keepAliveEveryMs - Date.now();
    if (wait <= 0) {
      keepAlive();
    } else if (pendingKeepAlive === null) {
      pendingKeepAlive = setTimeout(keepAlive, wait);
    }
  }

  ["input", "click", "keydown"].forEach(function (kind) {
    document.addEventListener(kind, activity, { capture: true, passive: true });
  });
  stillHere.addEventListener("click", function () {
    if (dialog.open) { dialog.close(); }
  });
  // Escape closes the warning; the key press already counted as activity.
  dialog.addEventListener("cancel", function () { activity(); });

  // A tablet that slept through its timers, or a page brought back by Back,
  // must not show the answers again: check the clock when it is seen.
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && Date.now() >= deadline) { expire(); }
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) { window.location.reload(); }
  });

  schedule();
}());
