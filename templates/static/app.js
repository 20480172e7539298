// crowdfund: progressive enhancement only; every page works without this script.
// Shows <time> elements as relative times ("3 hours ago"), keeping the absolute time in the title.
"use strict";

(function () {
  var units = [
    ["year", 365 * 24 * 3600],
    ["month", 30 * 24 * 3600],
    ["week", 7 * 24 * 3600],
    ["day", 24 * 3600],
    ["hour", 3600],
    ["minute", 60],
    ["second", 1]
  ];

  function relative(date, now) {
    var seconds = Math.round((date.getTime() - now) / 1000);
    var format = typeof Intl !== "undefined" && Intl.RelativeTimeFormat
      ? new Intl.RelativeTimeFormat("en", { numeric: "auto" })
      : null;
    for (var i = 0; i < units.length; i++) {
      var size = units[i][1];
      if (Math.abs(seconds) >= size || size === 1) {
        var n = Math.round(seconds / size);
        if (format) return format.format(n, units[i][0]);
        var abs = Math.abs(n);
        var text = abs + " " + units[i][0] + (abs === 1 ? "" : "s");
        return n < 0 ? text + " ago" : "in " + text;
      }
    }
    return "";
  }

  function update() {
    var now = Date.now();
    var times = document.querySelectorAll("time[datetime]");
    for (var i = 0; i < times.length; i++) {
      var el = times[i];
      var date = new Date(el.getAttribute("datetime"));
      if (isNaN(date.getTime())) continue;
      if (!el.hasAttribute("title")) el.setAttribute("title", el.textContent);
      el.textContent = relative(date, now);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", update);
  } else {
    update();
  }
})();
