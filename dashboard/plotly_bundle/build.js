// Builds ../assets/vendor/plotly-gridtwin.min.js with plotly.js's own esbuild settings (its esbuild-config.js:
// inline CSS, NODE_DEBUG off, iife named Plotly, es2016), minified, for the traces in entry.js only, with
// map-patch.js's one change to the map subplot (updates applied one at a time).
'use strict';
const path = require('path');
const esbuild = require('esbuild');
const { environmentPlugin } = require('esbuild-plugin-environment');
const InlineCSSPlugin = require('esbuild-plugin-inline-css');
const mapPatch = require('./map-patch');
const version = require('plotly.js/package.json').version;

esbuild.build({
    entryPoints: [path.join(__dirname, 'entry.js')],
    outfile: process.env.OUT || path.join(__dirname, '..', 'assets', 'vendor', 'plotly-gridtwin.min.js'),
    format: 'iife',
    globalName: 'Plotly',
    bundle: true,
    minify: true,
    sourcemap: false,
    legalComments: 'eof',
    plugins: [mapPatch.plugin, InlineCSSPlugin(), environmentPlugin({ NODE_DEBUG: false })],
    alias: { stream: 'stream-browserify' },
    define: { global: 'window', 'define.amd': 'false' },
    target: 'es2016',
    banner: { js: `/* plotly.js v${version} (MIT, Plotly, Inc.): core, bar, scattermap, choroplethmap, densitymap */` },
    logLevel: 'info',
}).catch(() => process.exit(1));
