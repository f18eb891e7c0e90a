package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/duro-run/duro/internal/server"
)

// dexRunnerName is the executable name of AWS's local durable execution
// emulator, which SAM CLI runs as
//
//	dex-local-runner start-server --host H --port P --log-level L \
//	    --lambda-endpoint URL --store-type T --store-path F
//
// (landscape.md §1.3). `duro dex-local-runner` accepts the same command line,
// and so does the duro binary when it is invoked under this name (a symlink
// or a copy named dex-local-runner), so that Duro can replace the emulator.
const dexRunnerName = "dex-local-runner"

// Defaults of AWS's emulator, each overridable by an environment variable.
const (
	dexDefaultHost           = "0.0.0.0"
	dexDefaultPort           = 5000
	dexDefaultLogLevel       = "INFO"
	dexDefaultLambdaEndpoint = "http://127.0.0.1:3001"
	dexDefaultStoreType      = "memory"
	dexDefaultSQLitePath     = "durable-executions.db"
	dexDefaultFilesystemPath = ".durable_executions"
)

// commandArgs returns the arguments the root command parses from the
// program's argv: argv[1:], with "dex-local-runner" in front when the binary
// was invoked under that name.
func commandArgs(argv []string) []string {
	if len(argv) == 0 {
		return []string{}
	}
	args := argv[1:]
	base := filepath.Base(argv[0])
	if ext := filepath.Ext(base); strings.EqualFold(ext, ".exe") {
		base = strings.TrimSuffix(base, ext)
	}
	if base == dexRunnerName {
		return append([]string{dexRunnerName}, args...)
	}
	return args
}

// newDexRunnerCommand is `duro dex-local-runner`: the command line of AWS's
// local emulator. Only start-server, the subcommand SAM CLI uses, exists.
func newDexRunnerCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   dexRunnerName,
		Short: "Drop-in replacement for AWS's local durable execution emulator (what SAM CLI runs)",
		Long: `dex-local-runner accepts the command line of AWS's local durable execution
emulator, the dex-local-runner that SAM CLI starts (in a container) for
"sam local invoke" and "sam local start-lambda" of durable functions. The duro
binary also runs this command when it is invoked under the name
dex-local-runner (a symlink or a copy), so it can stand in for the emulator's
executable.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newDexStartServerCommand())
	return cmd
}

// dexOptions are the flags of start-server.
type dexOptions struct {
	host           string
	port           int
	logLevel       string
	lambdaEndpoint string
	storeType      string
	storePath      string
	region         string
	accountID      string
}

// newDexStartServerCommand is `duro dex-local-runner start-server`.
func newDexStartServerCommand() *cobra.Command {
	var o dexOptions
	port, portErr := envPort("AWS_DEX_PORT", dexDefaultPort)
	cmd := &cobra.Command{
		Use:   "start-server",
		Short: "Serve the durable execution API and the emulator routes SAM CLI drives",
		Long: `start-server runs Duro with the command line of AWS's emulator. It serves the
Lambda durable execution API plus the emulator's own routes: GET /health,
POST /start-durable-execution (201 {"ExecutionArn"}), PUT /lambda-endpoint and
GET /2025-12-01/durable-executions. Every invocation of an execution started
through POST /start-durable-execution is sent to
{LambdaEndpoint}/2015-03-31/functions/{FunctionName}/invocations (the
function container's Runtime Interface Emulator), or to --lambda-endpoint
when the request names none.

Storage is always Duro's SQLite store:
  --store-type sqlite      the database is the --store-path file itself; the
                           file's directory is Duro's data directory (it also
                           holds signing.key, node.id and code/).
  --store-type filesystem  --store-path is the data directory; the database
                           is duro.db inside it.
  --store-type memory      a temporary data directory, removed when the
                           server exits: nothing survives a restart.
A database written by AWS's emulator cannot be reused: move it away.

DURABLE_EXECUTION_TIME_SCALE is not supported (waits take their real time);
a value other than 1 is reported at start-up.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if portErr != nil && !cmd.Flags().Changed("port") {
				return portErr
			}
			return runDexServer(cmd, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.host, "host", envOr("AWS_DEX_HOST", dexDefaultHost), "address to listen on (env AWS_DEX_HOST)")
	f.IntVar(&o.port, "port", port, "port to listen on; 0 picks a free one (env AWS_DEX_PORT)")
	f.StringVar(&o.logLevel, "log-level", envOr("AWS_DEX_LOG_LEVEL", dexDefaultLogLevel),
		"DEBUG, INFO, WARNING, ERROR or CRITICAL (env AWS_DEX_LOG_LEVEL)")
	f.StringVar(&o.lambdaEndpoint, "lambda-endpoint", envOr("AWS_DEX_LAMBDA_ENDPOINT", dexDefaultLambdaEndpoint),
		"default Lambda endpoint functions are invoked at, for starts that name none (env AWS_DEX_LAMBDA_ENDPOINT)")
	f.StringVar(&o.storeType, "store-type", envOr("AWS_DEX_STORE_TYPE", dexDefaultStoreType),
		"memory, filesystem or sqlite (env AWS_DEX_STORE_TYPE)")
	f.StringVar(&o.storePath, "store-path", os.Getenv("AWS_DEX_STORE_PATH"),
		"database file (sqlite; default "+dexDefaultSQLitePath+") or data directory (filesystem; default "+
			dexDefaultFilesystemPath+") (env AWS_DEX_STORE_PATH)")
	f.StringVar(&o.region, "region", envOr("DURO_REGION", "us-east-1"), "Duro: region used in ARNs (env DURO_REGION)")
	f.StringVar(&o.accountID, "account-id", envOr("DURO_ACCOUNT_ID", "123456789012"),
		"Duro: 12-digit account id used in ARNs (env DURO_ACCOUNT_ID)")
	return cmd
}

// envPort reads a port number from the environment.
func envPort(name string, def int) (int, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 65535 {
		return def, fmt.Errorf("%s=%q is not a port number", name, v)
	}
	return n, nil
}

// dexLogLevel maps the emulator's (Python logging) level names to slog's.
func dexLogLevel(s string) (slog.Level, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "DEBUG", "NOTSET":
		return slog.LevelDebug, nil
	case "INFO":
		return slog.LevelInfo, nil
	case "WARN", "WARNING":
		return slog.LevelWarn, nil
	case "ERROR":
		return slog.LevelError, nil
	case "CRITICAL", "FATAL":
		return slog.LevelError + 4, nil
	}
	return 0, fmt.Errorf("invalid --log-level %q: want DEBUG, INFO, WARNING, ERROR or CRITICAL", s)
}

// dexStore is where a --store-type/--store-path pair puts Duro's data.
type dexStore struct {
	dataDir   string
	storePath string // the database file; "" for dataDir/duro.db
	temporary bool   // dataDir is removed at exit
}

// resolveDexStore maps the emulator's store flags onto Duro's data
// directory and database file. For memory it creates the temporary
// directory; the caller removes it.
func resolveDexStore(storeType, storePath string) (dexStore, error) {
	switch strings.ToLower(storeType) {
	case "memory":
		dir, err := os.MkdirTemp("", "duro-dex-memory-")
		if err != nil {
			return dexStore{}, fmt.Errorf("create the temporary data directory of --store-type memory: %w", err)
		}
		return dexStore{dataDir: dir, temporary: true}, nil
	case "sqlite":
		if storePath == "" {
			storePath = dexDefaultSQLitePath
		}
		if fi, err := os.Stat(storePath); err == nil && fi.IsDir() {
			return dexStore{}, fmt.Errorf("--store-path %s is a directory; --store-type sqlite wants a database file", storePath)
		}
		return dexStore{dataDir: filepath.Dir(storePath), storePath: storePath}, nil
	case "filesystem":
		if storePath == "" {
			storePath = dexDefaultFilesystemPath
		}
		if fi, err := os.Stat(storePath); err == nil && !fi.IsDir() {
			return dexStore{}, fmt.Errorf("--store-path %s is a file; --store-type filesystem wants a directory", storePath)
		}
		return dexStore{dataDir: storePath}, nil
	}
	return dexStore{}, fmt.Errorf("invalid --store-type %q: want memory, filesystem or sqlite", storeType)
}

// runDexServer runs start-server until the command's context ends or a
// SIGINT/SIGTERM arrives.
func runDexServer(cmd *cobra.Command, o dexOptions) error {
	level, err := dexLogLevel(o.logLevel)
	if err != nil {
		return err
	}
	if o.port < 0 || o.port > 65535 {
		return fmt.Errorf("invalid --port %d", o.port)
	}
	logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
	if v := os.Getenv("DURABLE_EXECUTION_TIME_SCALE"); v != "" {
		if f, err := strconv.ParseFloat(v, 64); err != nil || f != 1 {
			logger.Warn("DURABLE_EXECUTION_TIME_SCALE is not supported: waits, retries and timeouts take their real time", "value", v)
		}
	}
	st, err := resolveDexStore(o.storeType, o.storePath)
	if err != nil {
		return err
	}
	if st.temporary {
		defer func() {
			if err := os.RemoveAll(st.dataDir); err != nil {
				logger.Warn("removing the temporary data directory", "dir", st.dataDir, "err", err)
			}
		}()
	}
	existed := false
	if st.storePath != "" {
		_, serr := os.Stat(st.storePath)
		existed = serr == nil
	}

	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := server.Config{
		Listen:         net.JoinHostPort(o.host, strconv.Itoa(o.port)),
		DataDir:        st.dataDir,
		StorePath:      st.storePath,
		LambdaEndpoint: o.lambdaEndpoint,
		Region:         o.region,
		AccountID:      o.accountID,
		Logger:         logger,
	}
	srv, err := server.Start(ctx, cfg)
	if err != nil {
		if existed && !errors.Is(err, fs.ErrPermission) && strings.Contains(err.Error(), "open store") {
			return fmt.Errorf("%w (if %s was written by AWS's emulator, move it away: Duro keeps its own schema)", err, st.storePath)
		}
		return err
	}
	logger.Info("dex-local-runner compatible server started", "addr", srv.Addr(),
		"lambda_endpoint", o.lambdaEndpoint, "store_type", strings.ToLower(o.storeType),
		"data_dir", st.dataDir, "temporary", st.temporary)
	select {
	case <-ctx.Done():
		logger.Info("shutting down")
	case err := <-srv.Done():
		if err != nil {
			return err
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	return nil
}
