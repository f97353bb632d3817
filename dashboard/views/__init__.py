"""View models of the pages: parse a page's inputs, ask the models (:mod:`dashboard.models`), and call the
figure builders and components.  Callbacks in :mod:`dashboard.pages` call these and return what they give;
these are the only dashboard modules besides the models that call into :mod:`pipelines`."""
