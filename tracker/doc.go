// Package tracker is aelab's experiment store: every training run, its
// configuration, parameters, tags, metric history and artifacts, kept in a
// SQLite file (the embedded default) or in a PostgreSQL database that several
// machines share, with the same API, query language and results on both.
//
// The model follows MLflow's tracking store:
//
//   - an experiment groups runs by name ("vanilla-mnist");
//   - a run has a UUID, a name, a status (RUNNING, FINISHED, FAILED, KILLED,
//     LOST), start and end times, a source (the program or notebook that made
//     it), an error reason, and its full configuration as JSON;
//   - params are string key/values fixed at the start (model, epochs, …);
//   - tags are string key/values that may change later;
//   - metrics are (key, step, epoch, value, timestamp) rows: the full history is
//     kept, and the latest value of each key (highest step) is kept aside for
//     fast queries;
//   - artifacts are files the run produced (checkpoints, figures), by path.
//
// # Using it
//
//	store, err := tracker.Open(tracker.DefaultPath())
//	run, err := store.StartRun(tracker.RunSpec{Experiment: "vanilla", Config: cfgJSON,
//		Params: map[string]string{"model": "vanilla", "epochs": "10"}})
//	run.LogMetrics(map[string]float64{"train_loss": 0.12, "val_bce": 0.13}, step, epoch)
//	run.Finish(tracker.StatusFinished, "")
//
//	runs, err := store.SearchRuns(tracker.Search{
//		Filter:  `metrics.val_bce < 0.1 and params.model = "deep"`,
//		OrderBy: "metrics.val_bce asc",
//	})
//
// # Where the store lives
//
// [DefaultPath] is $AELAB_DB when set, else $XDG_DATA_HOME/aelab/aelab.db, else
// ~/.local/share/aelab/aelab.db, so the CLI and notebooks see the same runs.
//
// A location that starts postgres:// or postgresql:// is a PostgreSQL database
// (pgx, through database/sql): postgres://user@host:5432/dbname?sslmode=require.
// The password may be in the URL, in PGPASSWORD, or in ~/.pgpass (PGPASSFILE);
// sslmode and the other PG* variables work as libpq users expect. The password
// never appears in what the tracker prints, returns or stores: [Store.Path]
// and errors show the URL without it, and it is scrubbed from run names,
// params, tags (env.command), configs and reasons before they are stored.
//
// What differs between the two databases (placeholders, DDL, LIKE, collation,
// row order, the aelab_num function, schema introspection, the migration lock)
// sits in one small seam (dialect.go); the rest of tracker is written once.
// [Store.WriteTx], [Store.Rebind] and [Store.OpenDB] let a component that keeps
// its tables in the same database (sweeps: River) write in the tracker's own
// transaction and open its own pool without handling the password.
//
// # Artifacts
//
// Each store has an artifact root ([Store.ArtifactRoot]): the SQLite file's
// folder by default, or $AELAB_ARTIFACTS, a folder every machine mounts. The
// store records artifact paths relative to it, so each machine resolves them
// under its own mount point; files outside the root are recorded absolute.
//
// # Opening: writing and reading
//
// [Open] creates a store at a new path (or in an empty file) and migrates an
// older one forward; [OpenExisting] does the same but never creates one;
// [OpenReadOnly] is for commands that only read: it creates, migrates and writes
// nothing, and reads a store on a read-only filesystem. Every open first reads
// what the file holds without writing: a database that is not an aelab store
// (it has tables and no aelab schema_version table) is refused, byte for byte
// unchanged, with an error wrapping [ErrNotStore]:
//
//	tracker: shop.db is not an aelab store: it has tables customers, orders
//
// Other programs' tables beside aelab's (River's job queue) are fine.
//
// # Several processes
//
// The file is opened in WAL mode with a 10 s busy timeout and foreign keys on.
// Each [Store] has one writer connection (writes are serialised inside the
// process; every write is a BEGIN IMMEDIATE transaction, so processes queue on
// SQLite's lock instead of failing) and a small pool of read connections.
// Several notebooks and a CLI training can log into the same file at once.
//
// # Schema versions
//
// The schema carries a version number (table schema_version) and is migrated
// forward on [Open], inside one transaction that holds the database's write
// lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: a transaction-scoped advisory
// lock) and re-reads the version, so processes racing to create or upgrade a
// store migrate it exactly once. A
// store written by a newer aelab (a version this code does not know) is refused
// with an error that says so, never modified. Each step is a SQL file per
// dialect (migrations/sqlite/0001.sql, migrations/postgres/0001.sql, …),
// embedded; a shipped file never changes (migrations/checksums.txt).
//
// # Copying between stores
//
// [Copy] (runs push/pull) treats the source's rows as untrusted: runs whose id
// is not a UUID are refused, and artifact files are read only from inside the
// source's artifact root and written only under the target's. The target
// keeps a copy mark per run, so a later copy updates what changed in the
// source, reports what was edited in the target since as a conflict (left
// alone unless [CopyOptions].Overwrite), keeps deleted runs deleted and merges
// tags.
//
// # Full disks
//
// A writing open keeps a 1 MiB reserve file beside the store (aelab.db-reserve).
// When the disk is full, the write that records how a run ended deletes the
// reserve and tries again, so the run is recorded FAILED with its reason
// ("database or disk is full") rather than staying RUNNING until it reads LOST.
//
// # Runs that die
//
// A [Run] records its host and pid and updates its heartbeat every few seconds
// from a goroutine. Readers ([Store.GetRun], [Store.SearchRuns]) report a
// RUNNING run as LOST, with the reason in its Error field, when its process is
// gone from this host, or, on any host, when its heartbeat is older than three
// intervals and [DefaultLostAfter] ([Store.SetLostAfter]); they record that
// status in the store (a read-only store only reports it). Its metrics stay as
// logged. A LOST run whose process turns out to be alive (a heartbeat arrives)
// goes back to RUNNING; Finish from the owning process always wins.
// $AELAB_HOSTNAME overrides the host name runs record (tests that play two
// hosts, containers that share one).
//
// # Connection trouble
//
// A run's writes (LogMetrics, LogArtifact) that fail for a passing reason — a
// server restarting, a network drop, a file locked for long — are kept in
// order (up to [MaxPendingValues] values) and written in the background with
// backoff; training goes on. The run says so at once, in one line on stderr
// ([Store.SetNotices]), and again when the store is back. Finish (and Close)
// write what was kept before the run's end, waiting up to the flush timeout;
// what could not be written is named in the run's reason and in Finish's
// error, and Finish saves the run (record, every value it logged, artifacts)
// to a SQLite file of its own beside the store's artifacts, which `aelab runs
// push` brings to the store later; the error says where. A write whose commit
// was not acknowledged is not applied twice (runs.logged_seq).
//
// # Reading many runs
//
// [Store.EachRun] hands out the runs a search selects with their whole metric
// histories ([History], in columns), reading 500 runs at a time in one read
// transaction each, two batches at once, while the caller handles earlier ones:
// an export of 10,000 runs with a million metric values holds a few batches in
// memory, never the store. [AppendRunJSON] writes a run with its history as JSON
// (aelab runs list/show/export --json): byte for byte what encoding/json writes
// for the record, without its reflection.
//
// # Query language
//
// [Search.Filter] and [Search.OrderBy] are written in the query language of
// package [github.com/aelab/aelab/tracker/query], which parses them; the store
// turns the parsed filter into parameterised SQL (user text, keys included, is
// only ever bound as a parameter). Long and/or chains compile to shallow SQL,
// so thousands of terms work, and the tests of one metric, param or tag key in
// one chain share one subquery; past [MaxQueryLookups] such subqueries a search
// fails with a positioned *query.Error.
package tracker
