// Package sysmetrics samples what a process costs the machine it runs on: its CPU utilisation,
// its resident memory (current and peak), and, where an NVIDIA GPU and its nvidia-smi tool are
// present, each GPU's utilisation and memory. It knows nothing of training or of the experiment
// store: package experiments starts a Sampler for every tracked run and logs its samples as the
// run's system.* metrics, every few seconds and at the end of every epoch.
//
// On Linux, CPU time comes from getrusage (to the microsecond) and memory from /proc/self/status;
// elsewhere those fields are absent. GPU figures
// come from one long-lived `nvidia-smi --query-gpu … --loop-ms` process per Sampler, read line by
// line, so a sample never waits for (or pays for starting) a tool; without nvidia-smi, or when
// it fails, a Sample simply has no GPUs. Taking a sample costs a few microseconds
// (BenchmarkSample): at one sample every five seconds that is far below 1 % of training time.
package sysmetrics
