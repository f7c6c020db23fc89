// Package nbkit is what aelab's GoNB notebooks share, so that each notebook's setup is a few
// lines and its cells read as the lesson, not as plumbing.
//
// Live shows training as it happens: the loss curves (and reconstructions of a few test images)
// redrawn in place after every epoch, and one progress line updated in place within epochs,
// through GoNB's updatable display blocks (gonbui.UpdateHTML). Any training loop can feed it
// (Add, Draw, Progress); aelib's training feeds it through Live.Observe, which plugs into
// experiments.Options.ObserveModel, and the runs of a sweep feed one chart through Live.Trial, a
// curve each (sweeps.LocalOptions.Watch). Outside a notebook it draws but shows nothing.
//
// Notebook is the rest: a notebook's name and section, which tag its runs (New); its training
// settings, read from a cell's flags (Settings); training a run with the live view (Train);
// loading what an earlier cell trained (Latest, History).
package nbkit
