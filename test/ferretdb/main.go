// Command ferretdb-embedded runs FerretDB v1.24.2 with its SQLite backend for Changegate's
// test suite and for the embedded development database. It wraps FerretDB's embeddable
// package instead of `go install ...cmd/ferretdb@v1.24.2`, whose binary panics at start-up
// because the module zip lacks build/version/version.txt (FerretDB#2982).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on")
	dataDir := flag.String("data-dir", "", "directory for the SQLite database files (created if missing)")
	logLevel := flag.String("log-level", "error", "FerretDB log level: debug, info, warn, error")
	version := flag.Bool("version", false, "print the FerretDB version and exit")
	pprofAddr := flag.String("pprof-addr", "", "serve Go's pprof profiles on this address (benchmark diagnostics)")
	flag.Parse()

	if *version {
		fmt.Println("ferretdb-embedded (FerretDB v1.24.2, sqlite handler)")
		return
	}
	if *pprofAddr != "" {
		go func() { log.Println(http.ListenAndServe(*pprofAddr, nil)) }()
	}
	if *dataDir == "" {
		log.Fatal("--data-dir is required")
	}
	abs, err := filepath.Abs(*dataDir)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		log.Fatal(err)
	}

	// _txlock=immediate: FerretDB's inserts and updates run in SQLite transactions; as DEFERRED
	// transactions in WAL mode, one that must upgrade to a writer after another connection committed
	// fails at once with SQLITE_BUSY ("database is locked") instead of waiting on busy_timeout.
	// IMMEDIATE takes the write lock at BEGIN and waits for it. Reads use no transaction.
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/?_txlock=immediate",
		Logger:    newLogger(*logLevel),
	})
	if err != nil {
		log.Fatal(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	f.Run(ctx)
}

func newLogger(level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelError
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}
