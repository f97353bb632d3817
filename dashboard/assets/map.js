/* gridtwin map helpers (clientside callbacks): the map's real size, and smooth flights on drill-down
   and when an incident is opened.  Served from /assets like the CSS: no inline script, no network. */
(function () {
  "use strict";
  const noUpdate = () => window.dash_clientside.no_update;
  const FLIGHT_DELAY_MS = 80;
  const FLIGHT_MS = 350;
  const SLOW_FRAME_MS = 60;

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

  /* Complete frames only while the camera stands still.  A new figure (first paint, drill-down, a live
     update) replaces the style and plotly's trace sources; MapLibre parses each GeoJSON source in its
     workers and drew one frame per source as it arrived (5-7 frames of 130-250 ms each in a
     software-rendered browser, every one read back), though only the last shows the whole map.  While the
     style is still loading and nothing moves, a frame is skipped (the previous one stays on screen) for at
     most HOLD_MAX_MS; a moving camera (a flight, a pan, a zoom) draws every frame as before. */
  const HOLD_MAX_MS = 1500;

  function holdPartialFrames(map) {
    const painter = map.painter;
    if (!painter || painter.__gtHold) { return; }
    map._fadeDuration = 0;
    const render = painter.render;
    let heldSince = null;
    painter.render = function (style, options) {
      /* partial: sources still loading, or names just placed (they show only in the frame after).
         A map's first frame is always drawn: skipping it left the names unplaced (MapLibre's painter
         sets itself up in its first render). */
      const partial = painter.__gtDrawn > 0 && style && !(options && options.moving)
        && typeof style.loaded === "function" && (!style.loaded() || map._placementDirty);
      if (partial) {
        const now = performance.now();
        if (heldSince === null) {
          heldSince = now;
          window.setTimeout(function () { map.triggerRepaint(); }, HOLD_MAX_MS + 20);
        }
        if (now - heldSince < HOLD_MAX_MS) { painter.__gtHeld += 1; return undefined; }
      }
      heldSince = null;
      painter.__gtDrawn += 1;
      const started = performance.now();
      painter.__gtFrames.push(started);
      if (painter.__gtFrames.length > 64) { painter.__gtFrames.shift(); }
      const drawn = render.apply(this, arguments);
      /* how long the frame kept the page's thread (drawn, composited, read back): until the next frame */
      window.requestAnimationFrame(function () { painter.__gtFrameMs = performance.now() - started; });
      return drawn;
    };
    painter.__gtHold = true;  /* frames skipped and drawn, read by bench/browser.py --trace */
    painter.__gtHeld = 0;
    painter.__gtDrawn = 0;
    painter.__gtFrames = [];  /* when the last frames were drawn */
    painter.__gtFrameMs = 0;
  }

  function watchMaps() {
    const seen = new WeakSet();
    const patchAll = function () {
      document.querySelectorAll(".js-plotly-plot").forEach(function (gd) {
        const sub = gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
        if (sub && sub.map && !seen.has(sub.map)) {
          seen.add(sub.map);
          holdPartialFrames(sub.map);
        }
      });
    };
    /* plotly creates the map (and MapLibre its canvas) synchronously; the observer runs before the first frame */
    new MutationObserver(function (records) {
      for (const record of records) {
        for (const node of record.addedNodes) {
          const canvas = node.nodeType === 1
            && (node.classList.contains("maplibregl-canvas") || node.querySelector(".maplibregl-canvas"));
          if (canvas) {
            patchAll();
            return;
          }
        }
      }
    }).observe(document.documentElement, { childList: true, subtree: true });
  }
  watchMaps();

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
        /* Where one frame keeps the thread longer than SLOW_FRAME_MS (software WebGL), the flight is one
           step: its second frame (130-250 ms) ended after the child's reply had arrived and delayed it. */
        const slow = map.painter && map.painter.__gtFrameMs > SLOW_FRAME_MS;
        window.setTimeout(function () {
          map.fitBounds(extent(feature.geometry), {
            padding: 24, duration: slow ? 0 : FLIGHT_MS, pitch: map.getPitch(), bearing: map.getBearing(), essential: true,
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
