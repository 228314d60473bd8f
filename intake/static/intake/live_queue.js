// The live red-flag queue: the queue page and the admin home page keep
// themselves current without a reload, so a new emergency is seen within
// seconds (issue 17, "A queue that updates itself").
//
// Every 5 seconds the page asks the live endpoint (one query; it answers 304
// while nothing changed) with the version it shows. When the version differs
// it fetches the page's content again and swaps in place the red-flag summary
// and, on the queue, the rows and the pagination: scroll position, ticked
// rows, the chosen action and the focus are kept. The tab's title carries the
// number of open emergencies; a new emergency is announced in a polite live
// region and, if the staff member switched it on (remembered per browser, off
// by default), with a short sound made by the Web Audio API.
//
// No inline script (the CSP forbids it): the template only provides data-*
// attributes. All state comes from the server, so any number of staff on any
// number of app servers see the same queue.
"use strict";
{
    const POLL_MS = 5000;
    const SOUND_KEY = "clinic.liveQueue.sound";
    const TITLE_PREFIX = /^(\(\d+\)|\(!\) Not updating:)\s+/;
    const FAILURES_BEFORE_WARNING = 3;

    function ready(fn) {
        if (document.readyState !== "loading") {
            fn();
        } else {
            document.addEventListener("DOMContentLoaded", fn);
        }
    }

    function summaryState(root) {
        const summary = root.querySelector(".red-flag-summary");
        if (!summary) {
            return null;
        }
        return {
            version: summary.dataset.liveVersion || "",
            emergencies: Number(summary.dataset.emergencies || 0),
            newestEmergency: summary.dataset.newestEmergency || "",
        };
    }

    // A row's identity: its checkbox's value (the case id), else its link.
    function rowKey(row) {
        const box = row.querySelector("input.action-select");
        if (box) {
            return box.value;
        }
        const link = row.querySelector("a[href]");
        return link ? link.getAttribute("href") : "";
    }

    function rows(root) {
        return Array.from(root.querySelectorAll("#result_list tbody tr"));
    }

    // What identifies the focused control, to give the focus back after a swap.
    function focusKey(element) {
        if (!element || element === document.body) {
            return null;
        }
        const row = element.closest("#result_list tbody tr");
        if (!row) {
            return null;
        }
        return {
            row: rowKey(row),
            selector: element.matches("input.action-select")
                ? "input.action-select"
                : element.matches("button")
                  ? "button"
                  : element.getAttribute("href")
                    ? `a[href="${CSS.escape(element.getAttribute("href"))}"]`
                    : null,
        };
    }

    function plural(count, one, many) {
        return `${count} ${count === 1 ? one : many}`;
    }

    function clockTime(date) {
        return date.toLocaleTimeString([], {hour: "2-digit", minute: "2-digit", second: "2-digit"});
    }

    class LiveQueue {
        constructor(controls) {
            this.controls = controls;
            this.liveUrl = controls.dataset.liveUrl;
            this.refresh = controls.dataset.refresh;
            this.announcer = document.getElementById("live-queue-announcer");
            this.checkedNote = document.getElementById("live-queue-checked");
            this.stoppedNote = document.getElementById("live-queue-stopped");
            this.sound = document.getElementById("live-queue-sound");
            this.baseTitle = document.title.replace(TITLE_PREFIX, "");
            this.state = summaryState(document) || {version: "", emergencies: 0, newestEmergency: ""};
            this.failures = 0;
            this.busy = false;
            this.stopped = false;
            this.beeps = 0;
        }

        start() {
            this.controls.hidden = false;
            this.setUpSound();
            this.showTitle();
            this.startClock();
            document.addEventListener("visibilitychange", () => {
                if (!document.hidden) {
                    this.poll();
                }
            });
            window.addEventListener("pageshow", (event) => {
                if (event.persisted) {
                    this.poll();
                }
            });
        }

        // Timers of a page in a background tab may be slowed to once a minute;
        // a worker's are not, so a small worker ticks and the page polls.
        startClock() {
            const fallback = () => {
                if (!this.interval) {
                    this.interval = window.setInterval(() => this.poll(), POLL_MS);
                }
            };
            const clockUrl = this.controls.dataset.clockUrl;
            if (!window.Worker || !clockUrl) {
                fallback();
                return;
            }
            try {
                this.clock = new Worker(clockUrl);
            } catch {
                fallback();
                return;
            }
            this.clock.addEventListener("message", () => this.poll());
            this.clock.addEventListener("error", () => {
                this.clock.terminate();
                this.clock = null;
                fallback();
            });
            this.clock.postMessage(POLL_MS);
        }

        stopClock() {
            if (this.clock) {
                this.clock.terminate();
                this.clock = null;
            }
            if (this.interval) {
                window.clearInterval(this.interval);
                this.interval = null;
            }
        }

        async poll() {
            if (this.busy || this.stopped) {
                return;
            }
            this.busy = true;
            try {
                const headers = {Accept: "application/json"};
                if (this.state.version) {
                    headers["If-None-Match"] = `"${this.state.version}"`;
                }
                const response = await fetch(this.liveUrl, {
                    headers,
                    credentials: "same-origin",
                    cache: "no-store",
                    redirect: "manual",
                });
                if (response.type === "opaqueredirect" || response.status === 401) {
                    // The admin sends the logged-out to its login page.
                    this.stop(
                        "Live updates have STOPPED: you are no longer logged in " +
                            "(sessions end after 30 minutes without activity). " +
                            "Reload the page and log in again.",
                    );
                    return;
                }
                if (response.status === 403) {
                    this.stop("Live updates have STOPPED: you no longer have access to the queue.");
                    return;
                }
                if (response.status !== 304) {
                    if (!response.ok) {
                        throw new Error(`live endpoint answered ${response.status}`);
                    }
                    const latest = await response.json();
                    if (latest.version !== this.state.version) {
                        await this.update();
                    }
                }
                this.succeeded();
            } catch (error) {
                this.failed(error);
            } finally {
                this.busy = false;
            }
        }

        async update() {
            const url = this.refresh === "queue" ? window.location.href : this.refresh;
            const response = await fetch(url, {
                headers: {"X-Live-Refresh": "1"},
                credentials: "same-origin",
                cache: "no-store",
                redirect: "manual",
            });
            if (!response.ok) {
                throw new Error(`refresh answered ${response.status}`);
            }
            const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
            const before = {...this.state, rows: new Set(rows(document).map(rowKey))};
            const hadBanner = Boolean(document.querySelector(".alert-failing-banner"));
            if (this.refresh === "queue") {
                this.swapQueue(fresh);
            } else {
                this.swapSummary(fresh.body);
            }
            this.state = summaryState(document) || this.state;
            this.showTitle();
            this.announceChanges(before, hadBanner);
        }

        swapSummary(source) {
            const box = document.getElementById("red-flag-live");
            const freshBox =
                source.querySelector("#red-flag-live") ||
                (source.nodeType === Node.ELEMENT_NODE ? source : null);
            if (box && freshBox) {
                box.replaceChildren(...Array.from(freshBox.childNodes, (node) => document.importNode(node, true)));
            }
        }

        swapQueue(fresh) {
            this.swapSummary(fresh);
            const form = document.getElementById("changelist-form");
            const freshForm = fresh.getElementById("changelist-form");
            if (!form || !freshForm) {
                return;
            }
            const ticked = new Set(
                Array.from(form.querySelectorAll("input.action-select:checked"), (box) => box.value),
            );
            const focus = focusKey(document.activeElement);
            const anchor = this.scrollAnchor();
            const scrollX = window.scrollX;
            const scrollY = window.scrollY;

            const results = form.querySelector(".results");
            const freshResults = freshForm.querySelector(".results");
            if (freshResults) {
                const imported = document.importNode(freshResults, true);
                if (results) {
                    results.replaceWith(imported);
                } else {
                    const actions = form.querySelector("div.actions");
                    if (actions) {
                        actions.after(imported);
                    } else {
                        form.prepend(imported);
                    }
                }
            } else if (results) {
                results.remove();
            }
            const pager = form.querySelector(".paginator");
            const freshPager = freshForm.querySelector(".paginator");
            if (pager && freshPager) {
                pager.replaceWith(document.importNode(freshPager, true));
            }
            const counter = form.querySelector(".action-counter");
            const freshCounter = freshForm.querySelector(".action-counter");
            if (counter && freshCounter) {
                counter.dataset.actionsIcnt = freshCounter.dataset.actionsIcnt;
            }

            // Ticked rows stay ticked (a new row never is), and the admin's
            // action script is pointed at the new checkboxes. It has no way to
            // let go of the old ones: the few listeners it leaves on the page
            // (key presses, the actions bar's links) only touch rows no longer
            // shown, and a reload clears them.
            const boxes = form.querySelectorAll("tr input.action-select");
            boxes.forEach((box) => {
                box.checked = ticked.has(box.value);
            });
            if (boxes.length && typeof window.Actions === "function") {
                window.Actions(boxes);
                boxes[0].dispatchEvent(new Event("change", {bubbles: true}));
            }

            this.restoreFocus(focus);
            this.restoreScroll(anchor, scrollX, scrollY);
        }

        // Keep the staff member's place: if they have scrolled into the rows,
        // the row at the top of their screen stays where it was. At the top of
        // the page nothing moves, so a new emergency appears in view.
        scrollAnchor() {
            const list = rows(document);
            if (!list.length || list[0].getBoundingClientRect().top >= 0) {
                return null;
            }
            for (const row of list) {
                const rect = row.getBoundingClientRect();
                if (rect.bottom > 0) {
                    return {key: rowKey(row), top: rect.top};
                }
            }
            return null;
        }

        restoreScroll(anchor, scrollX, scrollY) {
            window.scrollTo(scrollX, scrollY);
            if (!anchor) {
                return;
            }
            const row = rows(document).find((candidate) => rowKey(candidate) === anchor.key);
            if (row) {
                window.scrollBy(0, row.getBoundingClientRect().top - anchor.top);
            }
        }

        restoreFocus(focus) {
            if (!focus || !focus.selector) {
                return;
            }
            const row = rows(document).find((candidate) => rowKey(candidate) === focus.row);
            const target = row && row.querySelector(focus.selector);
            if (target) {
                target.focus({preventScroll: true});
            }
        }

        announceChanges(before, hadBanner) {
            const now = this.state;
            const newer =
                now.newestEmergency &&
                now.newestEmergency !== before.newestEmergency &&
                (!before.newestEmergency ||
                    Date.parse(now.newestEmergency) > Date.parse(before.newestEmergency));
            const messages = [];
            if (now.emergencies > before.emergencies || newer) {
                const references = rows(document)
                    .filter((row) => !before.rows.has(rowKey(row)) && row.querySelector(".case-tier-emergency"))
                    .map((row) => (row.querySelector(".field-reference") || row).textContent.trim());
                messages.push(
                    references.length
                        ? `New emergency: ${references.join(", ")}.`
                        : "New emergency in the red-flag queue.",
                );
                messages.push(`${plural(now.emergencies, "open emergency", "open emergencies")}.`);
                this.beep();
            }
            if (!hadBanner && document.querySelector(".alert-failing-banner")) {
                messages.push("Warning: an emergency alert is NOT being delivered.");
            }
            if (messages.length) {
                this.say(messages.join(" "));
            }
        }

        say(text) {
            // Emptied first so that the same words twice are announced twice.
            this.announcer.textContent = "";
            window.setTimeout(() => {
                this.announcer.textContent = text;
            }, 100);
        }

        showTitle() {
            const count = this.state.emergencies;
            if (this.stopped) {
                document.title = `(!) Not updating: ${this.baseTitle}`;
            } else {
                document.title = count > 0 ? `(${count}) ${this.baseTitle}` : this.baseTitle;
            }
        }

        succeeded() {
            this.failures = 0;
            this.stoppedNote.hidden = true;
            this.checkedNote.textContent = `Last checked ${clockTime(new Date())}.`;
        }

        failed(error) {
            this.failures += 1;
            if (this.failures >= FAILURES_BEFORE_WARNING) {
                this.warn(
                    "Live updates are failing: the server cannot be reached. " +
                        "Still trying; reload the page if this stays.",
                );
            }
            console.warn("live queue:", error);
        }

        warn(text) {
            if (this.stoppedNote.hidden || this.stoppedNote.textContent !== text) {
                this.stoppedNote.textContent = text;
                this.stoppedNote.setAttribute("role", "alert");
                this.stoppedNote.hidden = false;
            }
        }

        stop(text) {
            this.stopped = true;
            this.stopClock();
            this.controls.classList.add("live-queue-is-stopped");
            this.warn(text);
            this.showTitle();
        }

        // Sound ---------------------------------------------------------------

        setUpSound() {
            let on = false;
            try {
                on = window.localStorage.getItem(SOUND_KEY) === "on";
            } catch {
                // Storage may be off in this browser: the sound stays off.
            }
            this.sound.checked = on;
            this.sound.addEventListener("change", () => {
                try {
                    window.localStorage.setItem(SOUND_KEY, this.sound.checked ? "on" : "off");
                } catch {
                    // Not remembered, but on for this page.
                }
                if (this.sound.checked) {
                    this.beep(); // a sample, and the click lets the page play sound
                }
            });
            // Browsers let a page play sound only once the person has used it.
            const wake = () => {
                if (this.sound.checked) {
                    this.audio();
                }
            };
            document.addEventListener("pointerdown", wake, {once: true});
            document.addEventListener("keydown", wake, {once: true});
        }

        audio() {
            if (!this.context) {
                const AudioContext = window.AudioContext || window.webkitAudioContext;
                if (!AudioContext) {
                    return null;
                }
                this.context = new AudioContext();
            }
            if (this.context.state === "suspended") {
                this.context.resume();
            }
            return this.context;
        }

        beep() {
            if (!this.sound.checked) {
                return;
            }
            const context = this.audio();
            if (!context) {
                return;
            }
            this.beeps += 1;
            this.controls.dataset.beeps = String(this.beeps);
            const start = context.currentTime + 0.01;
            [880, 660].forEach((frequency, index) => {
                const at = start + index * 0.25;
                const tone = context.createOscillator();
                const volume = context.createGain();
                tone.type = "sine";
                tone.frequency.value = frequency;
                volume.gain.setValueAtTime(0.0001, at);
                volume.gain.exponentialRampToValueAtTime(0.3, at + 0.02);
                volume.gain.exponentialRampToValueAtTime(0.0001, at + 0.2);
                tone.connect(volume).connect(context.destination);
                tone.start(at);
                tone.stop(at + 0.22);
            });
        }
    }

    ready(() => {
        const controls = document.getElementById("live-queue");
        if (controls && controls.dataset.liveUrl) {
            new LiveQueue(controls).start();
        }
    });
}
