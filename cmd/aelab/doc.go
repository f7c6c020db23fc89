// Command aelab trains, tracks, benchmarks and reports on the course's autoencoders.
//
// Usage:
//
//	aelab <command> [flags]
//	aelab help <command> [<subcommand>]
//
// `aelab help` lists the commands: train, bench and summary (the models of aelib's registry,
// configured by the one flag set of experiments.ConfigFlags), runs and experiments (the run
// history in the store: list, show, compare, export, tag, delete, reproduce, push, pull),
// report, course, sweep and worker (hyperparameter sweeps over River's queue), run and import
// (runs of other programs, package track), ui (the store in a browser, package web) and db (a
// PostgreSQL server of one's own, store upgrades and backups).
//
// Every command that touches runs takes --db: a SQLite file (default
// ~/.local/share/aelab/aelab.db, or $AELAB_DB) or a postgres:// URL. Commands that only read
// open the store read-only and never write to it; a store that is not aelab's, or is of a
// newer aelab, is refused before anything is written.
//
// Exit status: 0 on success; 2 on a usage error (an unknown flag, a bad value, a store that
// cannot be the one meant), printed on one line as "aelab COMMAND: …"; 1 on any other failure.
//
// Each command lives in its own file and has one entry in the command table (commands.go),
// which drives dispatch and help; flags that several commands share are defined once in
// flags.go.
package main
