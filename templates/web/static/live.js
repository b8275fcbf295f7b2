/* live.js - the dashboard's live fill levels. The overview works without it;
   with it, each session's row (<tr id="fill-SESSION">) follows the stream of
   server-sent events at /verwaltung/live: seats taken, capacity, waitlist,
   and whether it is full. Only counts come through the stream, never a name. */
(function () {
    "use strict";
    if (!window.EventSource || !document.querySelector("tr[id^='fill-']")) {
        return;
    }
    var source = new EventSource("/verwaltung/live");
    source.addEventListener("fill", function (message) {
        var fill;
        try {
            fill = JSON.parse(message.data);
        } catch (error) {
            return;
        }
        var row = document.getElementById("fill-" + fill.session);
        if (!row) {
            return;
        }
        function show(name, value) {
            var cell = row.querySelector("." + name);
            if (cell) {
                cell.textContent = String(value);
            }
        }
        show("taken", fill.taken);
        show("capacity", fill.capacity);
        show("waiting", fill.waiting);
        var meter = row.querySelector("meter");
        if (meter) {
            meter.max = fill.capacity;
            meter.value = fill.taken;
            meter.textContent = fill.taken + "/" + fill.capacity;
        }
        var full = row.querySelector(".full");
        if (full) {
            full.hidden = fill.taken < fill.capacity;
            full.textContent = full.hidden ? "" : full.getAttribute("data-text");
        }
        row.classList.add("changed");
    });
}());
