// Package nbplot draws the figures and tables that aelab's GoNB notebooks show: grids of
// 28×28 images (originals, noisy inputs, reconstructions), line charts of training curves,
// overlaid histograms of scores, and plain HTML tables. Every function returns bytes or HTML
// for gonbui.DisplayPNG / gonbui.DisplayHTML; nothing here talks to the notebook kernel, so
// the package is ordinary, testable Go.
package nbplot
