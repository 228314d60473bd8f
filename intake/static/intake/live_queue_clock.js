// The live queue's clock (a dedicated worker, see live_queue.js): browsers
// slow the timers of a page in a background tab to once a minute, but not a
// worker's, so the queue still looks for new emergencies every few seconds.
"use strict";
let timer = null;
self.addEventListener("message", (event) => {
    clearInterval(timer);
    timer = setInterval(() => self.postMessage("tick"), Number(event.data) || 5000);
});
