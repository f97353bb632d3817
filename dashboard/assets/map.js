/* gridtwin map helpers (clientside callbacks): the map's real size, and smooth flights on drill-down
   and when an incident is opened.  Served from /assets like the CSS: no inline script, no network. */
(function () {
  "use strict";
  const noUpdate = () => window.dash_clientside.no_update;
  const FLIGHT_DELAY_MS = 80;

  function mapOf(graphId) {
    const gd = document.querySelector("#" + graphId + " .js-plotly-plot");
    const sub = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
    if (!sub || !sub.map) { return null; }
    /* Names appear at once instead of fading in: in a software-rendered browser each fade step is a whole
       frame drawn and read back, and those frames slowed the child's map after a drill-down. */
    sub.map._fadeDuration = 0;
    return { gd: gd, map: sub.map };
  }

  function extent(geometry) {
    let w = 180, s = 90, e = -180, n = -90;
    const walk = (c) => {
      if (typeof c[0] === "number") {
        w = Math.min(w, c[0]); e = Math.max(e, c[0]); s = Math.min(s, c[1]); n = Math.max(n, c[1]);
      } else { c.forEach(walk); }
    };
    walk(geometry.coordinates);
    return [[w, s], [e, n]];
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    gridtwin_map: {
      /* The map element's size in CSS pixels: the server fits each unit's view to it. */
      viewport: function (graphId) {
        const el = document.getElementById(graphId);
        const box = el ? el.getBoundingClientRect() : { width: 0, height: 0 };
        return { width: Math.round(box.width), height: Math.round(box.height) };
      },
      /* A click on a child unit: fly to it at once, while the server draws the child's map. */
      flyToChild: function (click, graphId) {
        const found = mapOf(graphId);
        const point = click && click.points && click.points[0];
        if (!found || !point || !point.customdata || point.customdata[2] !== "unit") { return noUpdate(); }
        const units = found.gd.data.find((t) => t.name === "units");
        const feature = units && units.geojson.features.find((f) => String(f.id) === String(point.customdata[0]));
        if (!feature) { return noUpdate(); }
        /* The flight starts once the child's requests have left: its frames keep the page's thread busy
           (software WebGL), and the requests waited behind them. */
        const map = found.map;
        window.setTimeout(function () {
          map.fitBounds(extent(feature.geometry), {
            padding: 24, duration: 600, pitch: map.getPitch(), bearing: map.getBearing(), essential: true,
          });
        }, FLIGHT_DELAY_MS);
        return point.customdata[0];
      },
      /* An opened incident: fly to it, and keep the view like an operator's own zoom (relayout). */
      flyToPoint: function (focus, graphId) {
        const found = mapOf(graphId);
        if (!found || !focus || focus.lon === undefined || focus.lon === null) { return noUpdate(); }
        const map = found.map;
        map.once("moveend", function () {
          const c = map.getCenter();
          window.Plotly.relayout(found.gd, { "map.center": { lon: c.lng, lat: c.lat }, "map.zoom": map.getZoom() });
        });
        map.flyTo({ center: [focus.lon, focus.lat], zoom: Math.max(map.getZoom(), 16), duration: 1400, essential: true });
        return focus.id;
      },
    },
  });
})();
