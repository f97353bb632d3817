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

  /* The command map's figure carries its scene (names, 3D buildings, H3 columns) as the data of its style's
     sources.  Before plotly.js sees a figure the scene is taken out of the style, which is then the same
     object for every unit: plotly keeps the MapLibre style (no setStyle, no re-created traces) and the
     scene goes into the sources directly, in the same frames as the figure — a drill-down is a data patch. */
  const SCENE_SOURCES = ["labels", "buildings", "columns"];
  const SCENE_WAIT_MS = 30000;
  const EMPTY = { type: "FeatureCollection", features: [] };
  let latestScene = null;

  function splitScene(layout) {
    const style = layout && layout.map && layout.map.style;
    const sources = style && style.sources;
    if (!sources || SCENE_SOURCES.some((name) => !sources[name])) { return null; }  /* not a complete style */
    const scene = { key: layout.uirevision };
    const bare = Object.assign({}, sources);
    SCENE_SOURCES.forEach(function (name) {
      scene[name] = sources[name].data;
      bare[name] = Object.assign({}, sources[name], { data: EMPTY });
    });
    const map = Object.assign({}, layout.map, { style: Object.assign({}, style, { sources: bare }) });
    return { layout: Object.assign({}, layout, { map: map }), scene: scene };
  }

  /* Puts a scene into the style's sources as soon as the map has them (on first paint the map is being
     created) and marks the graph with the scene's key. */
  function putScene(scene, gd, since) {
    if (scene !== latestScene) { return; }  /* a newer figure came meanwhile */
    const sub = gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
    let sources = null;
    try {
      sources = sub && sub.map && SCENE_SOURCES.map((name) => sub.map.getSource(name));
    } catch (e) { sources = null; }
    if (!sources || sources.some((source) => !source)) {
      if (Date.now() - since < SCENE_WAIT_MS) { window.setTimeout(() => putScene(scene, gd, since), 30); }
      return;
    }
    sub.map._fadeDuration = 0;  /* as in mapOf */
    SCENE_SOURCES.forEach((name, i) => sources[i].setData(scene[name]));
    gd.dataset.gtScene = scene.key;
  }

  function hookReact(plotly) {
    const react = plotly.react;
    plotly.__gtScene = true;
    plotly.react = function (gd, figure) {
      const split = gd && gd.closest && gd.closest("#command-map") && figure && splitScene(figure.layout);
      if (!split) { return react.apply(this, arguments); }
      const args = Array.prototype.slice.call(arguments);
      args[1] = Object.assign({}, figure, { layout: split.layout });
      latestScene = split.scene;
      const done = react.apply(this, args);
      putScene(split.scene, gd, Date.now());
      return done;
    };
  }

  /* dcc.Graph loads plotly.js on demand: hook its react when it arrives (keeping any earlier hook). */
  const prior = Object.getOwnPropertyDescriptor(window, "Plotly");
  let plotlyValue = window.Plotly;
  if (plotlyValue && plotlyValue.react) {
    hookReact(plotlyValue);
  } else if (!prior || prior.configurable) {
    Object.defineProperty(window, "Plotly", {
      configurable: true,
      enumerable: true,
      get: () => (prior && prior.get ? prior.get() : plotlyValue),
      set: function (value) {
        if (value && value.react && !value.__gtScene) { hookReact(value); }
        if (prior && prior.set) { prior.set(value); } else { plotlyValue = value; }
      },
    });
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    gridtwin_map: {
      /* The map element's size in CSS pixels: the server fits each unit's view to it. */
      viewport: function (graphId) {
        const el = document.getElementById(graphId);
        const box = el ? el.getBoundingClientRect() : { width: 0, height: 0 };
        const size = { width: Math.round(box.width), height: Math.round(box.height) };
        /* remembered for the next page load: the server then ships the first map with the page
           (components/map_reply.py; the screen width in the same steps as the page's SCREEN callback) */
        const screen = Math.round(window.innerWidth / 160) * 160;
        document.cookie = "gt_viewport=" + size.width + "x" + size.height + "x" + screen
          + "; path=/; max-age=31536000; SameSite=Lax";
        return size;
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
