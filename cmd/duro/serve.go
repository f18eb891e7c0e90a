package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/duro-run/duro/internal/server"
	"github.com/duro-run/duro/internal/tracing"
)

func newServeCommand() *cobra.Command {
	var cfg server.Config
	var logLevel string
	var logRetentionDays int
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the durable execution service (AWS Lambda wire API) on an embedded store",
		Long: `Run the durable execution service (AWS Lambda wire API) on an embedded store.

The API answers on --listen (TCP) and, for local processes, on the Unix
socket api.sock in the data directory (skipped when that path is too long
for a socket address or another running server holds it), in HTTP and in a
multiplexed protocol of Duro's own. Duro's Node.js workers use the socket
(multiplexed); every other client uses --listen.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return err
			}
			if logRetentionDays < 0 {
				return usageErrorf("--log-retention-days must be 0 (the default execution retention) or more, not %d", logRetentionDays)
			}
			cfg.LogRetention = time.Duration(logRetentionDays) * 24 * time.Hour
			cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			srv, err := server.Start(ctx, cfg)
			if err != nil {
				return err
			}
			select {
			case <-ctx.Done():
				cfg.Logger.Info("shutting down")
			case err := <-srv.Done():
				if err != nil {
					return err
				}
			}
			sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			return srv.Shutdown(sctx)
		},
	}
	f := cmd.Flags()
	addServerFlags(f, &cfg, &logLevel)
	f.StringVar(&cfg.DataDir, "data-dir", envOr("DURO_DATA_DIR", "./.duro"), "directory of the embedded store (env DURO_DATA_DIR)")
	f.IntVar(&logRetentionDays, "log-retention-days", 0, "days the log lines of plain (non-durable) invocations are kept; an execution's lines go with it (0: the default execution retention, 14 days)")
	f.StringVar(&cfg.OTLPEndpoint, "otlp-endpoint", os.Getenv(tracing.EndpointVariable), "export OpenTelemetry traces over OTLP/HTTP to this base URL, e.g. http://localhost:4318 (env "+tracing.EndpointVariable+"; empty: off)")
	return cmd
}

// addServerFlags declares the flags every command that runs a server has.
func addServerFlags(f *pflag.FlagSet, cfg *server.Config, logLevel *string) {
	f.StringVar(&cfg.Listen, "listen", envOr("DURO_LISTEN", "127.0.0.1:9014"), "address to serve the API on (env DURO_LISTEN)")
	f.StringVar(&cfg.Region, "region", envOr("DURO_REGION", "us-east-1"), "region used in ARNs (env DURO_REGION)")
	f.StringVar(&cfg.AccountID, "account-id", envOr("DURO_ACCOUNT_ID", "123456789012"), "12-digit account id used in ARNs (env DURO_ACCOUNT_ID)")
	f.StringVar(logLevel, "log-level", envOr("DURO_LOG_LEVEL", "info"), "debug, info, warn or error")
	f.StringVar(&cfg.Runtime.NodeCommand, "node", envOr("DURO_NODE", "node"), "Node.js that runs nodejs* functions: a command on PATH or a path (env DURO_NODE)")
	f.StringVar(&cfg.Runtime.PythonCommand, "python", envOr("DURO_PYTHON", "python3"), "Python that runs python3.* functions: a command on PATH or a path (env DURO_PYTHON)")
}
