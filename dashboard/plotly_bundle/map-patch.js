// Two changes to plotly.js's map subplot (src/plots/map/map.js), applied while bundling:
// 1. map updates run one at a time, and a request that arrives while one is being applied waits (only the
//    newest waiting one is drawn; an older waiting one is resolved as drawn over);
// 2. a new style drops plotly's layout layers (``layout.map.layers``: roads, outlines) as it already drops
//    its trace layers, so both are added again on the new style.
//
// Why: plotly.js starts every figure update at once. When a second figure arrives before the first has
// been applied — a page whose callbacks answer twice in a row, e.g. the planner's drill-down (new area,
// then its cleared site list) — the second reads the map style while MapLibre is still loading the
// first one (`map.getStyle()` is undefined until a style is loaded) and throws "Cannot read properties of
// undefined (reading 'layers')", or adds layers whose sources the first update's style change removed
// ("source … not found"). Seen in CI on a slow machine; tests/browser/test_map_updates.py sends such
// bursts on purpose.
//
// Why 2: MapLibre's style diff removes every layer and source the new style does not name, plotly's own
// included. plotly.js forgets its trace layers then (``traceHash = {}``) but kept its layout layers, and
// from the second style change on it styled layers that were gone ("Cannot style non-existing layer").
'use strict';

const QUEUED_PLOT = `proto.plot = function (calcData, fullLayout, promises) {
    // gridtwin: one update at a time; the newest waiting request wins (see dashboard/plotly_bundle)
    var self = this;
    promises.push(
        new Promise(function (resolve, reject) {
            if (self._waiting) self._waiting.resolve();
            self._waiting = { calcData: calcData, fullLayout: fullLayout, resolve: resolve, reject: reject };
            if (!self._busy) self._runNext();
        })
    );
};

proto._runNext = function () {
    var self = this;
    var job = self._waiting;
    self._waiting = null;
    if (!job) return;
    self._busy = true;
    var done = false;
    var next = function () {
        if (done) return;
        done = true;
        clearTimeout(stuck);
        self._applied = null;
        self._busy = false;
        self._runNext();
    };
    // a style or source that never finishes loading must not hold every later update back
    var stuck = setTimeout(next, 15000);
    self._applied = next;
    var reject = function (err) {
        next();
        job.reject(err);
    };
    if (!self.map) self.createMap(job.calcData, job.fullLayout, job.resolve, reject);
    else self.updateMap(job.calcData, job.fullLayout, job.resolve, reject);
};`;

const APPLIED_HOOK = `proto.resolveOnRender = function (resolve) {
    var map = this.map;
    // gridtwin: the update is applied; the next waiting one may start
    if (this._applied) this._applied();
`;

const NEW_STYLE = `self.traceHash = {};
        // gridtwin: the new style has none of plotly's layers; add the layout layers again too
        self.layerList = [];`;

const REPLACEMENTS = [
    [/self\.traceHash = \{\};/, NEW_STYLE],
    [/proto\.plot = function \(calcData, fullLayout, promises\) \{[\s\S]*?\n\};/, QUEUED_PLOT],
    [/proto\.resolveOnRender = function \(resolve\) \{\n    var map = this\.map;\n/, APPLIED_HOOK],
];

function patchMap(source) {
    for (const [pattern, replacement] of REPLACEMENTS) {
        if (source.match(new RegExp(pattern.source, 'g'))?.length !== 1) {
            throw new Error(`map-patch: ${pattern} does not match plotly.js's map.js exactly once; update the patch`);
        }
        source = source.replace(pattern, () => replacement);
    }
    return source;
}

const plugin = {
    name: 'gridtwin-map-patch',
    setup(build) {
        const fs = require('fs');
        build.onLoad({ filter: /plotly\.js[\\/]src[\\/]plots[\\/]map[\\/]map\.js$/ }, (args) => ({
            contents: patchMap(fs.readFileSync(args.path, 'utf8')),
            loader: 'js',
        }));
    },
};

module.exports = { plugin, patchMap };
