'use strict';
// The traces the dashboard draws (dashboard/figures.py and the pages' figure builders); scatter is in core.
var Plotly = require('plotly.js/lib/core');

Plotly.register([
    require('plotly.js/lib/bar'),
    require('plotly.js/lib/scattermap'),
    require('plotly.js/lib/choroplethmap'),
    require('plotly.js/lib/densitymap'),
]);

module.exports = Plotly;
