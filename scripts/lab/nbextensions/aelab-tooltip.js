// A Notebook 6 extension that `make lab` loads (scripts/lab is on its JUPYTER_PATH and
// JUPYTER_CONFIG_PATH; nbconfig/notebook.json enables it).
//
// Shift+Tab help: GoNB answers an inspect request with gopls' hover text as text/markdown only,
// and Notebook 6's tooltip shows text/plain only, so every tooltip on Go code came up empty.
// This shows the Markdown as plain text: the declaration, then the doc comment, without the
// code fences, rules and the pkg.go.dev link (which names a local path for aelab's packages).
define(['notebook/js/tooltip'], function (tooltip) {
  'use strict';
  function plain(markdown) {
    return markdown.split('\n').filter(function (line) {
      return !/^(```\w*|---)\s*$/.test(line) && !/^\[`[^`]*` on pkg\.go\.dev\]/.test(line);
    }).join('\n').replace(/\n{3,}/g, '\n\n').trim();
  }
  function load_ipython_extension() {
    var show = tooltip.Tooltip.prototype._show;
    tooltip.Tooltip.prototype._show = function (reply) {
      var data = reply && reply.content && reply.content.data;
      if (data && !data['text/plain'] && data['text/markdown']) {
        data['text/plain'] = plain(data['text/markdown']);
      }
      return show.call(this, reply);
    };
  }
  return { load_ipython_extension: load_ipython_extension };
});
