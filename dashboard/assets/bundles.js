/* plotly.js from the versioned URL the page preloads (dashboard/bundles.py): Dash's renderer sets
   window._dashPlotlyJSURL to an unversioned URL, which the browser revalidated on every page load; dcc.Graph
   reads it when the first graph mounts.  The preloaded, year-long cached file is used instead. */
(function () {
  "use strict";
  const link = document.getElementById("gt-plotly");
  if (!link || !link.href) { return; }
  const url = link.href;
  Object.defineProperty(window, "_dashPlotlyJSURL", {
    configurable: true,
    get: function () { return url; },
    set: function () { /* the renderer's unversioned URL: keep the versioned one */ },
  });
})();
