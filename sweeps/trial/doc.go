// Package trial says where a sweep's trial stands, from the store's records: the one source of
// trial states for `aelab sweep status`, the sweep report and the web UI, which therefore agree.
// It is apart from package sweeps so that readers of the store (reports, the UI) need not import
// the job queue.
package trial
