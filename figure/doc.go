// Package figure is the one look of aelab's figures, shared by the reports and the notebooks
// (package nbplot): a sans-serif font, one palette in one order, tick labels people read at a
// glance ("500k", not "500.00" thousand), and legends beside the data, never on it. It also
// lays out grids of 28×28 images (originals, noisy inputs, reconstructions).
//
// Build a chart with New, add gonum/plot plotters coloured by Color(i), and write it with
// Render, which draws the legend in a column of its own to the right of the data. Stack draws
// several panels that share an x axis as one figure.
package figure
