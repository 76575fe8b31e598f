// Command state-store is a local S3-compatible object store that keeps its data on disk, for
// testing Pulumi's s3:// state backend (and anything else that speaks S3) without AWS. The S3 API
// is github.com/johannesboyne/gofakes3 on its bolt backend: one database file, every write a
// committed, fsynced transaction, so the store survives a restart and even a SIGKILL with every
// acknowledged write in place. That is what sets it apart from scripts/s3-store (moto, in memory):
// tests restart this store in the middle of a deployment.
//
//	state-store [-listen 127.0.0.1:9200] [-db state.db] [-bucket NAME]... [-verbose]
//	state-store version
//
// Like any S3 test double it accepts every access key and does not check request signatures; it
// answers path-style requests (http://HOST:PORT/BUCKET/KEY) only. Buckets named with -bucket are
// created at start when missing; others are created through the S3 API (PUT /BUCKET). On SIGTERM
// or SIGINT it finishes the requests in flight, closes the database and exits 0.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3bolt"
	bolt "go.etcd.io/bbolt"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

// openTimeout bounds the wait for the database's file lock: bolt blocks for ever by default, and a
// second store on the same folder must fail rather than hang.
const openTimeout = 2 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// bucketList collects repeated (or comma-separated) -bucket flags.
type bucketList []string

func (b *bucketList) String() string { return strings.Join(*b, ",") }

func (b *bucketList) Set(v string) error {
	for _, name := range strings.Split(v, ",") {
		if name = strings.TrimSpace(name); name != "" {
			*b = append(*b, name)
		}
	}
	return nil
}

// run is the whole program; its result is the exit code: 0 after a signal, 1 when serving failed,
// 2 for a usage error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 1 && args[0] == "version" {
		fmt.Fprintf(stdout, "state-store %s (gofakes3, bolt backend)\n", version)
		return 0
	}
	flags := flag.NewFlagSet("state-store", flag.ContinueOnError)
	flags.SetOutput(stderr)
	listen := flags.String("listen", "127.0.0.1:9200", "address to listen on, HOST:PORT")
	dbPath := flags.String("db", "state.db", "the database file; created when missing")
	var buckets bucketList
	flags.Var(&buckets, "bucket", "a bucket to create at start when missing (repeatable, or comma-separated)")
	verbose := flags.Bool("verbose", false, "log every request, not only warnings and errors")
	ttl := flags.Duration("ttl", 0, "stop by itself after this long (0: never), so a test's store never outlives the test run")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if *ttl > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *ttl)
		defer cancel()
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(stderr, "state-store: unexpected argument %q\n", flags.Arg(0))
		return 2
	}
	logger := log.New(stderr, "state-store: ", log.LstdFlags)

	store, err := Open(*dbPath, buckets, *verbose, logger)
	if err != nil {
		logger.Print(err)
		return 1
	}
	defer func() {
		if err := store.Close(); err != nil {
			logger.Print(err)
		}
	}()
	listener, err := net.Listen("tcp", *listen)
	if err != nil {
		logger.Print(err)
		return 1
	}
	logger.Printf("%s serving http://%s from %s", version, listener.Addr(), *dbPath)
	if err := store.Serve(ctx, listener); err != nil {
		logger.Print(err)
		return 1
	}
	logger.Print("stopped")
	return 0
}

// Store is the S3 API over one bolt database.
type Store struct {
	db      *bolt.DB
	handler http.Handler
}

// Open opens (or creates) the database at path and makes sure the given buckets exist.
func Open(path string, buckets []string, verbose bool, logger *log.Logger) (*Store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: openTimeout})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("%s is in use by another process (another state store on the same folder?)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	backend := &lockedBackend{inner: s3bolt.New(db)}
	for _, name := range buckets {
		if err := backend.CreateBucket(name); err != nil && !gofakes3.IsAlreadyExists(err) {
			_ = db.Close()
			return nil, fmt.Errorf("create bucket %q: %w", name, err)
		}
	}
	levels := []gofakes3.LogLevel{gofakes3.LogErr, gofakes3.LogWarn}
	if verbose {
		levels = append(levels, gofakes3.LogInfo)
	}
	faker := gofakes3.New(backend,
		gofakes3.WithLogger(levelLog{logger, levels}),
		// Path-style only: virtual-host routing would read the bucket from "127.0.0.1".
		gofakes3.WithHostBucket(false),
	)
	return &Store{db: db, handler: withChecksum(faker.Server())}, nil
}

// Handler serves the S3 API.
func (s *Store) Handler() http.Handler { return s.handler }

// Close closes the database; call it once no request is served any more.
func (s *Store) Close() error { return s.db.Close() }

// Serve serves the S3 API on listener until ctx is done, then lets the requests in flight finish
// (for at most 10 s) and returns nil.
func (s *Store) Serve(ctx context.Context, listener net.Listener) error {
	srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: 30 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(listener) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close()
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// levelLog passes gofakes3's messages of the chosen levels to a standard logger.
type levelLog struct {
	logger *log.Logger
	levels []gofakes3.LogLevel
}

func (l levelLog) Print(level gofakes3.LogLevel, v ...interface{}) {
	for _, want := range l.levels {
		if level == want {
			l.logger.Print(string(level) + " " + strings.TrimSuffix(fmt.Sprintln(v...), "\n"))
			return
		}
	}
}
